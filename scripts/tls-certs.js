// Test and local-cluster certificates, made with the openssl command line: a CA, and node
// certificates it signs for both TLS roles (serverAuth and clientAuth, as peers need for mutual
// TLS) with the IPs and names others dial them by. EC P-256 keys, unencrypted, valid for
// `days`. Not for production: there, use your own PKI (see the README's TLS section).
const { execFileSync } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const KEY_OPTIONS = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function openssl(args) {
  try {
    execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const stderr = error.stderr ? String(error.stderr).trim() : error.message;
    throw new Error(`openssl ${args[0]} failed: ${stderr}`);
  }
}

/** A self-signed CA in `dir`: `<name>.crt` and `<name>.key`. */
function createCa(dir, name, days = 2) {
  fs.mkdirSync(dir, { recursive: true });
  const ca = { name, cert: path.join(dir, `${name}.crt`), key: path.join(dir, `${name}.key`) };
  openssl([
    'req',
    '-x509',
    ...KEY_OPTIONS,
    '-keyout',
    ca.key,
    '-out',
    ca.cert,
    '-days',
    String(days),
    '-subj',
    `/CN=${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return ca;
}

/**
 * A certificate for `name` signed by `ca`, in `dir`: `<name>.crt` and `<name>.key`, with the
 * given IP addresses and DNS names as subject alternative names (what a client checks).
 */
function createNodeCert(
  dir,
  ca,
  name,
  { ips = ['127.0.0.1'], dns = ['localhost'], days = 2 } = {},
) {
  fs.mkdirSync(dir, { recursive: true });
  const node = { name, cert: path.join(dir, `${name}.crt`), key: path.join(dir, `${name}.key`) };
  const csr = path.join(dir, `${name}.csr`);
  const extensions = path.join(dir, `${name}.ext`);
  const san = [...ips.map((ip) => `IP:${ip}`), ...dns.map((d) => `DNS:${d}`)].join(',');
  fs.writeFileSync(
    extensions,
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth,clientAuth',
      `subjectAltName=${san}`,
      '',
    ].join('\n'),
  );
  openssl([
    'req',
    '-new',
    ...KEY_OPTIONS,
    '-keyout',
    node.key,
    '-out',
    csr,
    '-subj',
    `/CN=${name}`,
  ]);
  openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    '-set_serial',
    `0x${randomBytes(8).toString('hex')}`,
    '-days',
    String(days),
    '-extfile',
    extensions,
    '-out',
    node.cert,
  ]);
  fs.rmSync(csr);
  fs.rmSync(extensions);
  return node;
}

module.exports = { createCa, createNodeCert };
