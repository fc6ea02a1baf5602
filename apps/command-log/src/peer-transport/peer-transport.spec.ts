import { Socket, connect } from 'node:net';
import { Message, MessageType, message } from '@parley/raft';
import {
  encodeData,
  encodeHello,
  decodeChallenge,
  newNonce,
  sessionKey,
  Hello,
} from './frame-auth';
import { FrameSplitter, frame } from './frame-splitter';
import { encodeMessage } from './message-codec';
import { TcpPeerTransport } from './peer-transport';

const secret = 'transport-test-secret-0123456789';

interface Node {
  transport: TcpPeerTransport;
  received: Message[];
  warnings: string[];
  port: number;
}

async function startNode(id: string, peerSecret = secret): Promise<Node> {
  const received: Message[] = [];
  const warnings: string[] = [];
  const transport = new TcpPeerTransport({
    selfId: id,
    host: '127.0.0.1',
    port: 0,
    secret: peerSecret,
    peers: new Map(),
    onMessage: (m) => received.push(m),
    onUnreachable: () => undefined,
    logger: { log: () => undefined, warn: (w) => warnings.push(w) },
    random: () => 0.5,
    frameBytesMax: 1024 * 1024,
  });
  const port = await transport.start();
  return { transport, received, warnings, port };
}

async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A raw client that speaks the handshake itself, to send hand-made frames. */
async function rawSession(port: number, from: string, to: string, withSecret = secret) {
  const socket = connect({ host: '127.0.0.1', port });
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const hello: Hello = { from, to, clientNonce: newNonce() };
  socket.write(frame(encodeHello(withSecret, hello)));
  const splitter = new FrameSplitter(1 << 20);
  const key = await new Promise<Uint8Array | undefined>((resolve) => {
    socket.on('data', (data: Buffer) => {
      const split = splitter.push(data);
      if ('error' in split || split.frames.length === 0) return;
      const nonce = decodeChallenge(withSecret, hello, split.frames[0]);
      resolve(nonce instanceof Uint8Array ? sessionKey(withSecret, hello, nonce) : undefined);
    });
    socket.on('close', () => resolve(undefined));
  });
  return { socket: socket as Socket, key, closed };
}

const heartbeat = (from: string, to: string): Message =>
  message({ type: MessageType.Heartbeat, from, to, term: 3, commit: 7 });

describe('TCP peer transport', () => {
  const started: Node[] = [];
  const node = async (id: string, peerSecret?: string) => {
    const n = await startNode(id, peerSecret);
    started.push(n);
    return n;
  };
  afterEach(async () => {
    for (const n of started.splice(0)) await n.transport.stop();
  });

  it('delivers messages between two replicas over an authenticated connection, in order', async () => {
    const a = await node('a');
    const b = await node('b');
    a.transport.setPeerAddress('b', { host: '127.0.0.1', port: b.port });
    const sent = Array.from({ length: 100 }, (_, i) =>
      message({ type: MessageType.App, from: 'a', to: 'b', term: 1, index: i }),
    );
    a.transport.send(sent);
    await until('100 messages', () => b.received.length === 100);
    expect(b.received.map((m) => m.index)).toEqual(sent.map((m) => m.index));
  });

  it('refuses a peer that does not know the cluster secret', async () => {
    const a = await node('a', 'a-different-secret-987654321');
    const b = await node('b');
    a.transport.setPeerAddress('b', { host: '127.0.0.1', port: b.port });
    a.transport.send([heartbeat('a', 'b')]);
    await until('a rejection', () => b.warnings.length > 0);
    expect(b.warnings[0]).toContain('HELLO failed authentication');
    expect(b.received).toEqual([]);
  });

  it('rejects a replayed frame and closes the connection', async () => {
    const b = await node('b');
    const { socket, key, closed } = await rawSession(b.port, 'a', 'b');
    expect(key).toBeDefined();
    const data = frame(encodeData(key!, 1, encodeMessage(heartbeat('a', 'b'))));
    socket.write(data);
    socket.write(data); // the same frame again
    await closed;
    expect(b.received).toHaveLength(1);
    expect(b.warnings.join('\n')).toContain('replayed or out-of-order frame 1, expected 2');
  });

  it('rejects a frame whose MAC was forged', async () => {
    const b = await node('b');
    const { socket, key, closed } = await rawSession(b.port, 'a', 'b');
    const body = encodeData(key!, 1, encodeMessage(heartbeat('a', 'b')));
    body[body.length - 1] ^= 1;
    socket.write(frame(body));
    await closed;
    expect(b.received).toEqual([]);
    expect(b.warnings.join('\n')).toContain('DATA frame failed authentication');
  });

  it('rejects a message that claims another sender than the authenticated peer', async () => {
    const b = await node('b');
    const { socket, key, closed } = await rawSession(b.port, 'a', 'b');
    socket.write(frame(encodeData(key!, 1, encodeMessage(heartbeat('c', 'b')))));
    await closed;
    expect(b.received).toEqual([]);
    expect(b.warnings.join('\n')).toContain("message from c to b on a's connection");
  });

  it('closes a connection that announces an oversized frame without buffering it', async () => {
    const b = await node('b');
    const socket = connect({ host: '127.0.0.1', port: b.port });
    socket.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    const header = Buffer.alloc(4);
    header.writeUInt32BE(0x7fffffff);
    socket.write(header);
    await closed;
    expect(b.warnings.join('\n')).toContain('exceeds');
  });

  it('survives garbage after a valid handshake and keeps serving other peers', async () => {
    const b = await node('b');
    const a = await node('a');
    const { socket, closed } = await rawSession(b.port, 'x', 'b');
    socket.write(frame(Buffer.from('definitely not a data frame')));
    await closed;
    a.transport.setPeerAddress('b', { host: '127.0.0.1', port: b.port });
    a.transport.send([heartbeat('a', 'b')]);
    await until('a message after the garbage', () => b.received.length === 1);
  });

  it('reconnects after the peer restarts', async () => {
    const a = await node('a');
    let b = await node('b');
    a.transport.setPeerAddress('b', { host: '127.0.0.1', port: b.port });
    a.transport.send([heartbeat('a', 'b')]);
    await until('first message', () => b.received.length === 1);
    const port = b.port;
    await b.transport.stop();
    started.splice(started.indexOf(b), 1);
    const received: Message[] = [];
    const restarted = new TcpPeerTransport({
      selfId: 'b',
      host: '127.0.0.1',
      port,
      secret,
      peers: new Map(),
      onMessage: (m) => received.push(m),
      onUnreachable: () => undefined,
      logger: { log: () => undefined, warn: () => undefined },
      random: () => 0.5,
    });
    await restarted.start();
    b = { transport: restarted, received, warnings: [], port };
    started.push(b);
    await until('a message after reconnecting', () => {
      a.transport.send([heartbeat('a', 'b')]);
      return received.length > 0;
    });
  });
});
