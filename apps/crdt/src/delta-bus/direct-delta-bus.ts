import { Server, Socket } from 'node:net';
import { PeerTls, createStreamServer, dialStream } from '@parley/app-kit';
import { DeltaBus } from './delta-bus.port';

const FRAME_BYTES_MAX = 16 * 1024 * 1024;
const QUEUE_FRAMES_MAX = 10_000;
const RECONNECT_MS_MIN = 200;
const RECONNECT_MS_MAX = 5_000;

interface Peer {
  host: string;
  port: number;
  socket?: Socket;
  connected: boolean;
  queue: Buffer[];
  backoffMs: number;
  timer?: NodeJS.Timeout;
}

/**
 * The embedded default: a TCP connection to each configured peer carrying length-prefixed
 * frames. A peer that is down gets its frames queued up to a bound (then the oldest go — the
 * anti-entropy rounds repair whatever was dropped) and is redialled with jittered back-off.
 * Every frame goes to every peer: `sendTo` is a broadcast, which joins make harmless.
 */
export class DirectDeltaBus implements DeltaBus {
  private server?: Server;
  private readonly peers: Peer[];
  private sendFailures = 0;
  private handshakesRefused = 0;
  private closed = false;

  constructor(
    private readonly host: string,
    private readonly port: number,
    peers: readonly string[],
    /** Mutual TLS between replicas (deltas stay HMAC-sealed inside); plain TCP when unset. */
    private readonly tls?: PeerTls,
    private readonly onRefused: (reason: string, remote: string) => void = () => undefined,
  ) {
    this.peers = peers.map((address) => {
      const at = address.lastIndexOf(':');
      return {
        host: address.slice(0, at),
        port: Number(address.slice(at + 1)),
        connected: false,
        queue: [],
        backoffMs: RECONNECT_MS_MIN,
      };
    });
  }

  async start(onBytes: (bytes: Uint8Array) => void): Promise<void> {
    this.server = createStreamServer(
      this.tls,
      (socket) => this.readFrames(socket, onBytes),
      (reason, remote) => {
        this.handshakesRefused += 1;
        this.onRefused(reason, remote);
      },
    );
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.port, this.host, () => resolve());
    });
    for (const peer of this.peers) this.dial(peer);
  }

  broadcast(bytes: Uint8Array): void {
    const frame = Buffer.alloc(4 + bytes.length);
    frame.writeUInt32BE(bytes.length, 0);
    frame.set(bytes, 4);
    for (const peer of this.peers) {
      if (peer.connected && peer.socket) {
        peer.socket.write(frame);
        continue;
      }
      peer.queue.push(frame);
      if (peer.queue.length > QUEUE_FRAMES_MAX) {
        peer.queue.shift();
        this.sendFailures += 1;
      }
    }
  }

  sendTo(_replicaId: string, bytes: Uint8Array): void {
    this.broadcast(bytes);
  }

  private dial(peer: Peer): void {
    if (this.closed) return;
    const { socket, ready } = dialStream(peer, this.tls);
    peer.socket = socket;
    socket.on(ready, () => {
      peer.connected = true;
      peer.backoffMs = RECONNECT_MS_MIN;
      for (const frame of peer.queue.splice(0)) socket.write(frame);
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      peer.connected = false;
      peer.socket = undefined;
      if (this.closed) return;
      const delay = peer.backoffMs / 2 + Math.random() * (peer.backoffMs / 2);
      peer.backoffMs = Math.min(RECONNECT_MS_MAX, peer.backoffMs * 2);
      peer.timer = setTimeout(() => this.dial(peer), delay);
    });
  }

  private readFrames(socket: Socket, onBytes: (bytes: Uint8Array) => void): void {
    let buffered = Buffer.alloc(0);
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      while (buffered.length >= 4) {
        const length = buffered.readUInt32BE(0);
        if (length > FRAME_BYTES_MAX) {
          socket.destroy(); // a peer that lies about sizes gets cut off
          return;
        }
        if (buffered.length < 4 + length) break;
        onBytes(buffered.subarray(4, 4 + length));
        buffered = buffered.subarray(4 + length);
      }
    });
  }

  state() {
    return {
      transport: 'direct',
      tls: this.tls !== undefined,
      connected: this.peers.every((p) => p.connected),
      sendFailures: this.sendFailures,
      handshakesRefused: this.handshakesRefused,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const peer of this.peers) {
      clearTimeout(peer.timer);
      peer.socket?.destroy();
    }
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
  }
}
