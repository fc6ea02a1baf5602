import { Socket } from 'node:net';
import { PeerTls, dialStream } from '@parley/app-kit';
import {
  decodeChallenge,
  encodeData,
  encodeHello,
  newNonce,
  sessionKey,
  Hello,
} from './frame-auth';
import { FrameSplitter, frame } from './frame-splitter';
import { TransportLogger } from './peer-server';

export interface PeerAddress {
  host: string;
  port: number;
}

export interface PeerClientOptions {
  selfId: string;
  peerId: string;
  address: () => PeerAddress | undefined;
  secret: string;
  frameBytesMax: number;
  /** Encoded messages waiting while the connection is down or congested; beyond it, drop. */
  queuedMessagesMax: number;
  reconnectDelayMsBase: number;
  reconnectDelayMsMax: number;
  random: () => number;
  onUnreachable: (peerId: string) => void;
  logger: TransportLogger;
  /** Mutual TLS under the frame authentication; plain TCP when unset. */
  tls?: PeerTls;
}

/**
 * One outgoing connection to one peer: authenticated handshake, then DATA frames in order.
 * Back-pressure: while the socket is congested, messages queue up to a bound and newer ones are
 * dropped (Raft retransmits what matters). Reconnects with exponential back-off and full jitter.
 */
export class PeerClient {
  private socket: Socket | undefined;
  private key: Uint8Array | undefined;
  private sequence = 1;
  private queue: Uint8Array[] = [];
  private attempts = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private congested = false;
  private corked: Socket | undefined;
  dropped = 0;

  constructor(private readonly options: PeerClientOptions) {}

  send(payload: Uint8Array): void {
    if (this.closed) return;
    if (this.key && this.socket && !this.congested && this.queue.length === 0) {
      this.write(payload);
      return;
    }
    if (this.queue.length >= this.options.queuedMessagesMax) {
      this.dropped += 1;
      return;
    }
    this.queue.push(payload);
    if (!this.socket && !this.reconnectTimer) this.connect();
  }

  /** Holds writes until uncork() so a batch of messages goes out as one write. */
  cork(): void {
    this.corked = this.socket;
    this.corked?.cork();
  }

  uncork(): void {
    // The socket may have been replaced meanwhile; uncork the one that was corked.
    this.corked?.uncork();
    this.corked = undefined;
  }

  close(): void {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.socket?.destroy();
    this.queue = [];
  }

  private write(payload: Uint8Array): void {
    const ok = this.socket!.write(frame(encodeData(this.key!, this.sequence, payload)));
    this.sequence += 1;
    if (!ok) this.congested = true;
  }

  private flush(): void {
    while (this.queue.length > 0 && this.key && this.socket && !this.congested)
      this.write(this.queue.shift()!);
  }

  private connect(): void {
    const address = this.options.address();
    if (!address) {
      this.scheduleReconnect();
      return;
    }
    const { secret, selfId, peerId } = this.options;
    const { socket, ready } = dialStream(address, this.options.tls);
    socket.setNoDelay(true);
    this.socket = socket;
    this.key = undefined;
    this.sequence = 1;
    this.congested = false;
    const hello: Hello = { from: selfId, to: peerId, clientNonce: newNonce() };
    const splitter = new FrameSplitter(this.options.frameBytesMax);
    socket.on(ready, () => socket.write(frame(encodeHello(secret, hello))));
    socket.on('data', (data: Buffer) => {
      const split = splitter.push(data);
      if ('error' in split) return this.fail(split.error);
      for (const body of split.frames) {
        if (this.key) return this.fail('unexpected frame from server');
        const serverNonce = decodeChallenge(secret, hello, body);
        if (!(serverNonce instanceof Uint8Array)) return this.fail(serverNonce.error);
        this.key = sessionKey(secret, hello, serverNonce);
        this.attempts = 0;
        this.flush();
      }
    });
    socket.on('drain', () => {
      this.congested = false;
      this.flush();
    });
    socket.on('error', (error: Error) => {
      // A refused certificate is a configuration problem worth a line; a peer that is down is not.
      if (this.options.tls && !/ECONNREFUSED|ECONNRESET/.test(error.message))
        this.options.logger.warn(`connection to ${peerId} failed: ${error.message}`);
    });
    socket.on('close', () => {
      if (this.socket === socket) {
        this.socket = undefined;
        this.key = undefined;
        if (!this.closed) {
          this.options.onUnreachable(peerId);
          this.scheduleReconnect();
        }
      }
    });
  }

  private fail(reason: string): void {
    this.options.logger.warn(`connection to ${this.options.peerId} failed: ${reason}`);
    this.socket?.destroy();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer) return;
    // Exponential back-off with full jitter, capped.
    const ceiling = Math.min(
      this.options.reconnectDelayMsMax,
      this.options.reconnectDelayMsBase * 2 ** this.attempts,
    );
    this.attempts = Math.min(this.attempts + 1, 30);
    const delay = Math.floor(this.options.random() * ceiling);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.queue.length > 0 || this.attempts > 0) this.connect();
    }, delay);
    this.reconnectTimer.unref();
  }
}
