import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { PeerTls, peerTls } from '@parley/app-kit';
import { Message, MessageType, message } from '@parley/raft';
import { CertFiles, createCa, createNodeCert } from '../../../../scripts/tls-certs';
import { encodeHello, newNonce } from './frame-auth';
import { frame } from './frame-splitter';
import { TcpPeerTransport } from './peer-transport';

const secret = 'transport-test-secret-0123456789';
const HANDSHAKE_TIMEOUT_MS = 300;

let dir: string;
let ca: CertFiles;
let wrongCa: CertFiles;
const certs: Record<string, CertFiles> = {};

/** The transport's TLS options from certificate files, as the app builds them from config. */
function tlsOf(node: CertFiles, trusted: CertFiles): PeerTls {
  const file = (path: string) => ({ path, pem: readFileSync(path, 'utf8') });
  return peerTls(
    {
      PARLEY_PEER_TLS_CERT_FILE: file(node.cert),
      PARLEY_PEER_TLS_KEY_FILE: file(node.key),
      PARLEY_PEER_TLS_CA_FILE: file(trusted.cert),
    },
    HANDSHAKE_TIMEOUT_MS,
  )!;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'parley-peer-tls-'));
  ca = createCa(dir, 'ca');
  wrongCa = createCa(dir, 'wrong-ca');
  certs.a = createNodeCert(dir, ca, 'a');
  certs.b = createNodeCert(dir, ca, 'b');
  certs.intruder = createNodeCert(dir, wrongCa, 'intruder');
  // Signed by the right CA, but for another address than the one it is dialled at.
  certs.elsewhere = createNodeCert(dir, ca, 'elsewhere', { ips: ['10.9.8.7'], dns: [] });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Node {
  transport: TcpPeerTransport;
  received: Message[];
  warnings: string[];
  port: number;
}

async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const heartbeat = (from: string, to: string): Message =>
  message({ type: MessageType.Heartbeat, from, to, term: 3, commit: 7 });

describe('TCP peer transport over mutual TLS', () => {
  const started: Node[] = [];
  async function node(id: string, tls: PeerTls): Promise<Node> {
    const received: Message[] = [];
    const warnings: string[] = [];
    const transport = new TcpPeerTransport({
      selfId: id,
      host: '127.0.0.1',
      port: 0,
      secret,
      peers: new Map(),
      onMessage: (m) => received.push(m),
      onUnreachable: () => undefined,
      logger: { log: () => undefined, warn: (w) => warnings.push(w) },
      random: () => 0.5,
      tls,
    });
    const n = { transport, received, warnings, port: await transport.start() };
    started.push(n);
    return n;
  }
  afterEach(async () => {
    for (const n of started.splice(0)) await n.transport.stop();
  });

  it('delivers messages between replicas whose certificates the peer CA signed', async () => {
    const a = await node('a', tlsOf(certs.a, ca));
    const b = await node('b', tlsOf(certs.b, ca));
    a.transport.setPeerAddress('b', { host: '127.0.0.1', port: b.port });
    b.transport.setPeerAddress('a', { host: '127.0.0.1', port: a.port });
    a.transport.send([heartbeat('a', 'b')]);
    b.transport.send([heartbeat('b', 'a')]);
    await until('a message each way', () => a.received.length === 1 && b.received.length === 1);
    expect(b.received[0]).toMatchObject({ from: 'a', to: 'b', commit: 7 });
    expect(b.transport.serverStats.handshakesRefused).toBe(0);
  });

  it('refuses a replica whose certificate another CA signed, even with the cluster secret', async () => {
    const intruder = await node('a', tlsOf(certs.intruder, wrongCa));
    const b = await node('b', tlsOf(certs.b, ca));
    intruder.transport.setPeerAddress('b', { host: '127.0.0.1', port: b.port });
    intruder.transport.send([heartbeat('a', 'b')]);
    await until('a refused handshake', () => b.transport.serverStats.handshakesRefused > 0);
    // Each side refuses the other's certificate; whichever judges first, b counts a refusal.
    expect(b.warnings.join('\n')).toContain('refused a TLS connection from');
    expect(b.received).toEqual([]);
  });

  it('refuses a raw TLS client without a certificate, and one with a wrong-CA certificate', async () => {
    const b = await node('b', tlsOf(certs.b, ca));
    const attempt = (options: { cert?: string; key?: string }) =>
      new Promise<string>((resolve) => {
        const socket = tlsConnect({
          host: '127.0.0.1',
          port: b.port,
          ca: readFileSync(ca.cert),
          ...options,
        });
        // TLS 1.3: the client's handshake ends before the server has judged its certificate;
        // the refusal arrives as an alert on the first read.
        socket.on('secureConnect', () => socket.write(frame(encodeHello(secret, hello()))));
        socket.on('data', () => resolve('answered'));
        socket.on('error', (error) => resolve(`error: ${error.message}`));
        socket.on('close', () => resolve('closed'));
      });
    const hello = () => ({ from: 'a', to: 'b', clientNonce: newNonce() });
    expect(await attempt({})).toMatch(/^error: .*certificate required/);
    expect(
      await attempt({
        cert: readFileSync(certs.intruder.cert, 'utf8'),
        key: readFileSync(certs.intruder.key, 'utf8'),
      }),
    ).not.toBe('answered');
    expect(b.transport.serverStats.handshakesRefused).toBe(2);
    expect(b.received).toEqual([]);
  });

  it('a replica refuses a server whose certificate does not name the address it dialled', async () => {
    const a = await node('a', tlsOf(certs.a, ca));
    const elsewhere = await node('b', tlsOf(certs.elsewhere, ca));
    a.transport.setPeerAddress('b', { host: '127.0.0.1', port: elsewhere.port });
    a.transport.send([heartbeat('a', 'b')]);
    await until('a refused server identity', () => a.warnings.length > 0);
    expect(a.warnings.join('\n')).toContain("IP: 127.0.0.1 is not in the cert's list: 10.9.8.7");
    expect(elsewhere.received).toEqual([]);
  });

  it('a plaintext peer on a TLS port gets no answer and is closed', async () => {
    const b = await node('b', tlsOf(certs.b, ca));
    const socket = connect({ host: '127.0.0.1', port: b.port });
    const outcome = new Promise<string>((resolve) => {
      socket.on('data', () => resolve('answered'));
      socket.on('error', () => resolve('closed'));
      socket.on('close', () => resolve('closed'));
    });
    socket.on('connect', () =>
      socket.write(frame(encodeHello(secret, { from: 'a', to: 'b', clientNonce: newNonce() }))),
    );
    expect(await outcome).toBe('closed');
    await until('the refusal counted', () => b.transport.serverStats.handshakesRefused > 0);
    expect(b.received).toEqual([]);
  });

  it('closes a connection that never starts its handshake, within the handshake timeout', async () => {
    const b = await node('b', tlsOf(certs.b, ca));
    const socket = connect({ host: '127.0.0.1', port: b.port });
    const started = Date.now();
    await new Promise<void>((resolve) => {
      socket.on('error', () => undefined);
      socket.on('close', () => resolve());
    });
    // Closed by the server's bound, not by this test: nothing was sent, nothing closed here.
    expect(Date.now() - started).toBeGreaterThanOrEqual(HANDSHAKE_TIMEOUT_MS - 50);
    expect(b.warnings.join('\n')).toContain('refused a TLS connection');
  });
});
