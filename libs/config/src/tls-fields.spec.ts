import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { CertFiles, createCa, createNodeCert } from '../../../scripts/tls-certs';
import { ConfigError } from './config-error';
import { loadConfig } from './load-config';
import { checkTls, httpTlsFields, peerTlsFields } from './tls-fields';

const schema = z.object({ ...httpTlsFields(), ...peerTlsFields() }).superRefine(checkTls);

let dir: string;
let ca: CertFiles;
let node: CertFiles;
let other: CertFiles;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'parley-tls-config-'));
  ca = createCa(dir, 'ca');
  node = createNodeCert(dir, ca, 'node-1');
  other = createNodeCert(dir, ca, 'node-2');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function problemsOf(env: Record<string, string>): string {
  try {
    loadConfig('test-app', schema, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

const peerEnv = () => ({
  PARLEY_PEER_TLS_CERT_FILE: node.cert,
  PARLEY_PEER_TLS_KEY_FILE: node.key,
  PARLEY_PEER_TLS_CA_FILE: ca.cert,
});

describe('TLS settings', () => {
  it('are all optional: no TLS when none is set', () => {
    const config = loadConfig('test-app', schema, {});
    expect(config.PARLEY_TLS_CERT_FILE).toBeUndefined();
    expect(config.PARLEY_PEER_TLS_CERT_FILE).toBeUndefined();
    expect(config.PARLEY_TLS_CLIENT_CERT_AUTH).toBe(false);
  });

  it('read each file once at load, keeping its path', () => {
    const config = loadConfig('test-app', schema, {
      PARLEY_TLS_CERT_FILE: node.cert,
      PARLEY_TLS_KEY_FILE: node.key,
      PARLEY_TLS_CA_FILE: ca.cert,
      PARLEY_TLS_CLIENT_CERT_AUTH: 'true',
      ...peerEnv(),
    });
    expect(config.PARLEY_TLS_CERT_FILE?.path).toBe(node.cert);
    expect(config.PARLEY_TLS_CERT_FILE?.pem).toContain('-----BEGIN CERTIFICATE-----');
    expect(config.PARLEY_PEER_TLS_KEY_FILE?.pem).toContain('PRIVATE KEY-----');
    expect(config.PARLEY_TLS_CLIENT_CERT_AUTH).toBe(true);
  });

  it('name a missing file, its path and why', () => {
    const missing = join(dir, 'nope.crt');
    expect(problemsOf({ PARLEY_TLS_CERT_FILE: missing, PARLEY_TLS_KEY_FILE: node.key })).toContain(
      `PARLEY_TLS_CERT_FILE must be a path to a PEM certificate file (got ${JSON.stringify(missing)}: no such file)`,
    );
  });

  it('show the path of a key file (a path is not a secret) but never the key', () => {
    const missing = join(dir, 'nope.key');
    const message = problemsOf({ PARLEY_TLS_CERT_FILE: node.cert, PARLEY_TLS_KEY_FILE: missing });
    expect(message).toContain(
      `PARLEY_TLS_KEY_FILE must be a path to a PEM private key file (got ${JSON.stringify(missing)}: no such file)`,
    );
  });

  it('refuse a folder, and a file that holds no PEM of the expected kind', () => {
    expect(problemsOf({ PARLEY_PEER_TLS_CA_FILE: dir })).toContain(
      'PARLEY_PEER_TLS_CA_FILE must be a path to a PEM certificate file',
    );
    expect(problemsOf({ PARLEY_PEER_TLS_CA_FILE: dir })).toContain('it is not a regular file');
    // A key given where the certificate goes, and the other way round.
    expect(problemsOf({ PARLEY_TLS_CERT_FILE: node.key, PARLEY_TLS_KEY_FILE: node.key })).toContain(
      'it holds no PEM certificate',
    );
    expect(
      problemsOf({ PARLEY_TLS_CERT_FILE: node.cert, PARLEY_TLS_KEY_FILE: node.cert }),
    ).toContain('PARLEY_TLS_KEY_FILE must be a path to a PEM private key file');
  });

  it('refuse an encrypted private key, saying so', () => {
    const encrypted = join(dir, 'encrypted.key');
    execFileSync('openssl', [
      'pkcs8',
      '-topk8',
      '-in',
      node.key,
      '-out',
      encrypted,
      '-passout',
      'pass:parley-test',
    ]);
    expect(
      problemsOf({ PARLEY_TLS_CERT_FILE: node.cert, PARLEY_TLS_KEY_FILE: encrypted }),
    ).toContain('the private key is encrypted');
  });

  it('refuse a key without its certificate, and a certificate without its key', () => {
    expect(problemsOf({ PARLEY_TLS_KEY_FILE: node.key })).toContain(
      'PARLEY_TLS_CERT_FILE must be a path to a PEM certificate file (it is missing: PARLEY_TLS_KEY_FILE is set without it)',
    );
    expect(problemsOf({ PARLEY_TLS_CERT_FILE: node.cert })).toContain(
      'PARLEY_TLS_KEY_FILE must be a path to a PEM private key file (it is missing: PARLEY_TLS_CERT_FILE is set without it)',
    );
  });

  it("refuse a key that is not the certificate's", () => {
    expect(
      problemsOf({ PARLEY_TLS_CERT_FILE: node.cert, PARLEY_TLS_KEY_FILE: other.key }),
    ).toContain(
      'PARLEY_TLS_KEY_FILE must be a path to a PEM private key file (got ' +
        `${JSON.stringify(other.key)}: it is not the key of the certificate in PARLEY_TLS_CERT_FILE)`,
    );
  });

  it('need a CA for client certificate auth, and client certificate auth for a CA', () => {
    const https = { PARLEY_TLS_CERT_FILE: node.cert, PARLEY_TLS_KEY_FILE: node.key };
    expect(problemsOf({ ...https, PARLEY_TLS_CLIENT_CERT_AUTH: 'true' })).toContain(
      'PARLEY_TLS_CA_FILE must be a path to a PEM certificate file (it is missing: PARLEY_TLS_CLIENT_CERT_AUTH=true needs the CA that signs client certificates)',
    );
    expect(problemsOf({ ...https, PARLEY_TLS_CA_FILE: ca.cert })).toContain(
      'PARLEY_TLS_CLIENT_CERT_AUTH must be true or false (it is missing: PARLEY_TLS_CA_FILE is set but client certificates are not checked; set it to true)',
    );
  });

  it('peer TLS is mutual: a certificate alone names the key and CA it lacks', () => {
    const message = problemsOf({ PARLEY_PEER_TLS_CERT_FILE: node.cert });
    expect(message).toContain(
      'PARLEY_PEER_TLS_KEY_FILE must be a path to a PEM private key file (it is missing: peer TLS is mutual: PARLEY_PEER_TLS_CERT_FILE is set without it)',
    );
    expect(message).toContain(
      'PARLEY_PEER_TLS_CA_FILE must be a path to a PEM certificate file (it is missing',
    );
    expect(message).not.toContain('PARLEY_PEER_TLS_CERT_FILE must');
  });

  it('a peer key from another certificate is refused like the HTTP one', () => {
    expect(problemsOf({ ...peerEnv(), PARLEY_PEER_TLS_KEY_FILE: other.key })).toContain(
      'it is not the key of the certificate in PARLEY_PEER_TLS_CERT_FILE',
    );
  });

  it('a CA file that is not a certificate is refused', () => {
    const garbage = join(dir, 'garbage.crt');
    writeFileSync(
      garbage,
      '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n',
    );
    expect(problemsOf({ ...peerEnv(), PARLEY_PEER_TLS_CA_FILE: garbage })).toContain(
      `PARLEY_PEER_TLS_CA_FILE must be a path to a PEM certificate file (got ${JSON.stringify(garbage)}: it holds a PEM certificate that does not parse)`,
    );
  });

  it("a node's own certificate given as the CA is refused", () => {
    expect(problemsOf({ ...peerEnv(), PARLEY_PEER_TLS_CA_FILE: node.cert })).toContain(
      'its certificate is not a CA (basicConstraints CA:TRUE)',
    );
  });
});
