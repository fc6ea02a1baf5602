import { Server, Socket } from 'node:net';
import { PeerTls, createStreamServer } from '@parley/app-kit';
import { Message } from '@parley/raft';
import {
  decodeData,
  decodeHello,
  encodeChallenge,
  newNonce,
  sessionKey,
  Hello,
} from './frame-auth';
import { FrameSplitter, frame } from './frame-splitter';
import { DEFAULT_MESSAGE_LIMITS, decodeMessage } from './message-codec';

export interface TransportLogger {
  log(message: string): void;
  warn(message: string): void;
}

export interface PeerServerOptions {
  selfId: string;
  host: string;
  port: number;
  secret: string;
  frameBytesMax: number;
  /** A connection must finish its handshake within this many milliseconds. */
  handshakeTimeoutMs: number;
  onMessage: (message: Message) => void;
  logger: TransportLogger;
  /** Mutual TLS under the frame authentication; plain TCP when unset. */
  tls?: PeerTls;
}

/** Counters a metrics endpoint can expose. */
export interface PeerServerStats {
  connectionsAccepted: number;
  /** TLS handshakes refused: a certificate from another CA, none, plain bytes, too slow. */
  handshakesRefused: number;
  framesRejected: number;
  messagesReceived: number;
}

/**
 * Accepts authenticated peer connections and turns their DATA frames into Raft messages.
 * A malformed, oversized, forged or replayed frame closes that connection with a log line;
 * it never throws out of the socket handlers.
 */
export class PeerServer {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  readonly stats: PeerServerStats = {
    connectionsAccepted: 0,
    handshakesRefused: 0,
    framesRejected: 0,
    messagesReceived: 0,
  };

  constructor(private readonly options: PeerServerOptions) {}

  async listen(): Promise<number> {
    const server = createStreamServer(
      this.options.tls,
      (socket) => this.accept(socket),
      (reason, remote) => {
        this.stats.handshakesRefused += 1;
        this.options.logger.warn(`refused a TLS connection from ${remote}: ${reason}`);
      },
    );
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => resolve());
    });
    const address = server.address();
    return typeof address === 'object' && address !== null ? address.port : this.options.port;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
  }

  private accept(socket: Socket): void {
    this.stats.connectionsAccepted += 1;
    this.sockets.add(socket);
    socket.setNoDelay(true);
    const { secret, selfId, frameBytesMax } = this.options;
    const splitter = new FrameSplitter(frameBytesMax);
    let hello: Hello | undefined;
    let key: Uint8Array | undefined;
    let expectedSequence = 1;
    const handshakeTimer = setTimeout(
      () => reject('handshake timed out'),
      this.options.handshakeTimeoutMs,
    );
    handshakeTimer.unref();

    const reject = (reason: string) => {
      this.stats.framesRejected += 1;
      const who = hello ? `peer ${hello.from}` : `${socket.remoteAddress}:${socket.remotePort}`;
      this.options.logger.warn(`closing connection from ${who}: ${reason}`);
      socket.destroy();
    };

    socket.on('data', (data: Buffer) => {
      const split = splitter.push(data);
      if ('error' in split) return reject(split.error);
      for (const body of split.frames) {
        if (socket.destroyed) return;
        if (hello === undefined) {
          const decoded = decodeHello(secret, body);
          if ('error' in decoded) return reject(decoded.error);
          if (decoded.to !== selfId)
            return reject(`HELLO addressed to ${decoded.to}, not ${selfId}`);
          hello = decoded;
          const serverNonce = newNonce();
          key = sessionKey(secret, hello, serverNonce);
          clearTimeout(handshakeTimer);
          socket.write(frame(encodeChallenge(secret, hello, serverNonce)));
          continue;
        }
        const payload = decodeData(key!, expectedSequence, body, frameBytesMax);
        if (!(payload instanceof Uint8Array)) return reject(payload.error);
        expectedSequence += 1;
        const decoded = decodeMessage(payload, DEFAULT_MESSAGE_LIMITS);
        if (!decoded.ok) return reject(`malformed message: ${decoded.error}`);
        const message = decoded.message;
        // The authenticated peer may speak only for itself, and only to us.
        if (message.from !== hello.from || message.to !== selfId) {
          return reject(
            `message from ${message.from} to ${message.to} on ${hello.from}'s connection`,
          );
        }
        this.stats.messagesReceived += 1;
        this.options.onMessage(message);
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      clearTimeout(handshakeTimer);
      this.sockets.delete(socket);
    });
  }
}
