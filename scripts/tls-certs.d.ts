/** Paths of a PEM certificate and its unencrypted private key. */
export interface CertFiles {
  name: string;
  cert: string;
  key: string;
}

/** A self-signed CA in `dir`: `<name>.crt` and `<name>.key`. */
export function createCa(dir: string, name: string, days?: number): CertFiles;

/** A serverAuth+clientAuth certificate signed by `ca`, with IP and DNS SANs. */
export function createNodeCert(
  dir: string,
  ca: CertFiles,
  name: string,
  options?: { ips?: string[]; dns?: string[]; days?: number },
): CertFiles;
