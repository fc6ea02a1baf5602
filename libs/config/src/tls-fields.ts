import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { z } from 'zod';
import { booleanFlag } from './env-fields';

/**
 * TLS settings, modelled on etcd's flags: `--cert-file`/`--key-file`/`--trusted-ca-file`/
 * `--client-cert-auth` for the client-facing HTTP server, `--peer-cert-file`/`--peer-key-file`/
 * `--peer-trusted-ca-file` for every hop inside the cluster (always mutual). Files are read
 * once, here, at start-up: a missing, unreadable or malformed file stops the app with a message
 * naming the setting. Certificates are rotated by restarting the node.
 */

/** A PEM file as read at start-up; the path is kept for messages. */
export interface PemFile {
  path: string;
  pem: string;
}

/** A PEM file larger than this is not a certificate or key (a bundle of 100 CAs is ~200 KiB). */
const PEM_FILE_BYTES_MAX = 1_048_576;

const PEM_BLOCKS = {
  certificate: /-----BEGIN CERTIFICATE-----/,
  'private key': /-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----/,
} as const;

type PemKind = keyof typeof PEM_BLOCKS;

/** Why a file cannot be used, in words (never its contents). */
function readPem(path: string, kind: PemKind): PemFile | string {
  let pem: string;
  try {
    const stat = statSync(path);
    // A FIFO or device would block or never end; only regular files are read.
    if (!stat.isFile()) return 'it is not a regular file';
    if (stat.size > PEM_FILE_BYTES_MAX) return `it is larger than ${PEM_FILE_BYTES_MAX} bytes`;
    pem = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'no such file';
    if (code === 'EACCES' || code === 'EPERM')
      return 'the file is not readable (permission denied)';
    return `the file cannot be read (${code ?? 'invalid path'})`;
  }
  if (!PEM_BLOCKS[kind].test(pem)) return `it holds no PEM ${kind}`;
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(pem))
    return 'the private key is encrypted; give an unencrypted key and protect the file instead';
  return parses(pem, kind) ? { path, pem } : `it holds a PEM ${kind} that does not parse`;
}

/** Every certificate of a bundle, or the key, parses (Node skips a bad CA block silently). */
function parses(pem: string, kind: PemKind): boolean {
  try {
    if (kind === 'private key') createPrivateKey(pem);
    else for (const block of pem.match(CERTIFICATE_BLOCKS) ?? []) new X509Certificate(block);
    return true;
  } catch {
    return false;
  }
}

const CERTIFICATE_BLOCKS = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** A path to a PEM file of `kind`, read and checked at start-up. */
export const pemFile = (kind: PemKind) =>
  z
    .string()
    .transform((path, context) => {
      const read = readPem(path, kind);
      if (typeof read === 'string') {
        context.addIssue({ code: 'custom', message: read });
        return z.NEVER;
      }
      return read;
    })
    .optional()
    .describe(`a path to a PEM ${kind} file`);

/** TLS of the HTTP server (REST, health, metrics): every app has one (see baseFields). */
export function httpTlsFields() {
  return {
    /** Certificate (PEM, may include the chain) the HTTP server presents; HTTPS when set. */
    PARLEY_TLS_CERT_FILE: pemFile('certificate'),
    /** Private key (PEM, unencrypted) of PARLEY_TLS_CERT_FILE. */
    PARLEY_TLS_KEY_FILE: pemFile('private key'),
    /** CAs (PEM) that sign client certificates; used with PARLEY_TLS_CLIENT_CERT_AUTH. */
    PARLEY_TLS_CA_FILE: pemFile('certificate'),
    /** Require and verify a client certificate signed by PARLEY_TLS_CA_FILE (etcd's --client-cert-auth). */
    PARLEY_TLS_CLIENT_CERT_AUTH: booleanFlag(false),
  };
}

/**
 * TLS of every hop inside the cluster, always mutual: this node presents PARLEY_PEER_TLS_CERT_FILE
 * whether it dials or accepts, and requires the other side's certificate to be signed by
 * PARLEY_PEER_TLS_CA_FILE. All three set, or none (plain TCP).
 */
export function peerTlsFields() {
  return {
    /** Certificate (PEM) this node presents on internal hops, as server and as client. */
    PARLEY_PEER_TLS_CERT_FILE: pemFile('certificate'),
    /** Private key (PEM, unencrypted) of PARLEY_PEER_TLS_CERT_FILE. */
    PARLEY_PEER_TLS_KEY_FILE: pemFile('private key'),
    /** CAs (PEM) that sign every peer's certificate; anything else is refused. */
    PARLEY_PEER_TLS_CA_FILE: pemFile('certificate'),
  };
}

interface TlsSettings {
  PARLEY_TLS_CERT_FILE?: PemFile;
  PARLEY_TLS_KEY_FILE?: PemFile;
  PARLEY_TLS_CA_FILE?: PemFile;
  PARLEY_TLS_CLIENT_CERT_AUTH?: boolean;
  PARLEY_PEER_TLS_CERT_FILE?: PemFile;
  PARLEY_PEER_TLS_KEY_FILE?: PemFile;
  PARLEY_PEER_TLS_CA_FILE?: PemFile;
}

type Problem = { path: keyof TlsSettings; message: string };

/** The certificate and key belong together and every file parses, as Node will load them. */
function contextProblem(
  cert: PemFile,
  key: PemFile,
  ca: PemFile | undefined,
  names: { key: keyof TlsSettings; ca: keyof TlsSettings; cert: keyof TlsSettings },
): Problem | undefined {
  try {
    createSecureContext({ cert: cert.pem, key: key.pem });
  } catch (error) {
    const reason = (error as Error).message;
    return /mismatch/i.test(reason)
      ? { path: names.key, message: `it is not the key of the certificate in ${names.cert}` }
      : { path: names.key, message: `it cannot be used with ${names.cert} (${reason})` };
  }
  if (ca && !new X509Certificate(ca.pem).ca)
    return { path: names.ca, message: 'its certificate is not a CA (basicConstraints CA:TRUE)' };
  return undefined;
}

/** The rules of the HTTP settings: [broken, the setting to fix, why]. */
function httpTlsProblems(config: TlsSettings): Problem[] {
  const { PARLEY_TLS_CERT_FILE: cert, PARLEY_TLS_KEY_FILE: key, PARLEY_TLS_CA_FILE: ca } = config;
  const clientCertAuth = config.PARLEY_TLS_CLIENT_CERT_AUTH === true;
  const rules: [boolean, keyof TlsSettings, string][] = [
    [!!key && !cert, 'PARLEY_TLS_CERT_FILE', 'PARLEY_TLS_KEY_FILE is set without it'],
    [!!cert && !key, 'PARLEY_TLS_KEY_FILE', 'PARLEY_TLS_CERT_FILE is set without it'],
    [
      clientCertAuth && !ca,
      'PARLEY_TLS_CA_FILE',
      'PARLEY_TLS_CLIENT_CERT_AUTH=true needs the CA that signs client certificates',
    ],
    [
      clientCertAuth && !cert,
      'PARLEY_TLS_CERT_FILE',
      'PARLEY_TLS_CLIENT_CERT_AUTH=true needs the HTTP server to use TLS',
    ],
    [
      !!ca && !clientCertAuth,
      'PARLEY_TLS_CLIENT_CERT_AUTH',
      'PARLEY_TLS_CA_FILE is set but client certificates are not checked; set it to true',
    ],
  ];
  const problems = rules
    .filter(([broken]) => broken)
    .map(([, path, message]) => ({ path, message }));
  const mismatch =
    cert &&
    key &&
    contextProblem(cert, key, ca, {
      cert: 'PARLEY_TLS_CERT_FILE',
      key: 'PARLEY_TLS_KEY_FILE',
      ca: 'PARLEY_TLS_CA_FILE',
    });
  return mismatch ? [...problems, mismatch] : problems;
}

/** Peer TLS is mutual: all three files or none, and they belong together. */
function peerTlsProblems(config: TlsSettings): Problem[] {
  const names = {
    cert: 'PARLEY_PEER_TLS_CERT_FILE',
    key: 'PARLEY_PEER_TLS_KEY_FILE',
    ca: 'PARLEY_PEER_TLS_CA_FILE',
  } as const;
  const given = Object.values(names).filter((name) => config[name] !== undefined);
  if (given.length === 0) return [];
  if (given.length < 3) {
    const verb = given.length > 1 ? 'are' : 'is';
    return Object.values(names)
      .filter((name) => config[name] === undefined)
      .map((path) => ({
        path,
        message: `peer TLS is mutual: ${given.join(' and ')} ${verb} set without it`,
      }));
  }
  const mismatch = contextProblem(config[names.cert]!, config[names.key]!, config[names.ca], names);
  return mismatch ? [mismatch] : [];
}

/** The cross-field rules of the TLS settings, as problems naming the setting to fix. */
export function tlsProblems(config: TlsSettings): Problem[] {
  return [...httpTlsProblems(config), ...peerTlsProblems(config)];
}

/** For an app schema's superRefine: adds the TLS cross-field problems as issues. */
export function checkTls(config: TlsSettings, context: z.RefinementCtx): void {
  for (const problem of tlsProblems(config))
    context.addIssue({ code: 'custom', path: [problem.path], message: problem.message });
}
