import { PeerTls } from '@parley/app-kit';
import { Message } from '@parley/raft';
import { encodeMessage } from './message-codec';
import { PeerAddress, PeerClient } from './peer-client';
import { PeerServer, TransportLogger } from './peer-server';

/** The port the replica drives: send Raft messages, receive them, learn peer addresses. */
export interface PeerTransport {
  start(): Promise<number>;
  send(messages: readonly Message[]): void;
  setPeerAddress(id: string, address: PeerAddress): void;
  stop(): Promise<void>;
}

export interface TcpPeerTransportOptions {
  selfId: string;
  host: string;
  port: number;
  secret: string;
  peers: ReadonlyMap<string, PeerAddress>;
  onMessage: (message: Message) => void;
  onUnreachable: (peerId: string) => void;
  logger: TransportLogger;
  random: () => number;
  frameBytesMax?: number;
  queuedMessagesMax?: number;
  /** Mutual TLS on every peer connection, under the frame authentication; plain TCP when unset. */
  tls?: PeerTls;
}

/** TCP between replicas: one authenticated outgoing connection per peer, one listener. */
export class TcpPeerTransport implements PeerTransport {
  private readonly server: PeerServer;
  private readonly clients = new Map<string, PeerClient>();
  private readonly addresses: Map<string, PeerAddress>;

  constructor(private readonly options: TcpPeerTransportOptions) {
    this.addresses = new Map(options.peers);
    this.server = new PeerServer({
      selfId: options.selfId,
      host: options.host,
      port: options.port,
      secret: options.secret,
      frameBytesMax: options.frameBytesMax ?? 64 * 1024 * 1024,
      handshakeTimeoutMs: 5_000,
      onMessage: options.onMessage,
      logger: options.logger,
      tls: options.tls,
    });
  }

  start(): Promise<number> {
    return this.server.listen();
  }

  setPeerAddress(id: string, address: PeerAddress): void {
    this.addresses.set(id, address);
  }

  send(messages: readonly Message[]): void {
    // One Ready's messages to a peer leave in one write (corked), not one syscall each.
    const touched = new Set<PeerClient>();
    for (const message of messages) {
      if (message.to === this.options.selfId) continue;
      const client = this.client(message.to);
      if (!touched.has(client)) {
        touched.add(client);
        client.cork();
      }
      client.send(encodeMessage(message));
    }
    for (const client of touched) client.uncork();
  }

  droppedMessages(): number {
    let dropped = 0;
    for (const client of this.clients.values()) dropped += client.dropped;
    return dropped;
  }

  get serverStats() {
    return this.server.stats;
  }

  async stop(): Promise<void> {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
    await this.server.close();
  }

  private client(peerId: string): PeerClient {
    let client = this.clients.get(peerId);
    if (!client) {
      client = new PeerClient({
        selfId: this.options.selfId,
        peerId,
        address: () => this.addresses.get(peerId),
        secret: this.options.secret,
        frameBytesMax: this.options.frameBytesMax ?? 64 * 1024 * 1024,
        queuedMessagesMax: this.options.queuedMessagesMax ?? 4096,
        reconnectDelayMsBase: 20,
        reconnectDelayMsMax: 1_000,
        random: this.options.random,
        onUnreachable: this.options.onUnreachable,
        logger: this.options.logger,
        tls: this.options.tls,
      });
      this.clients.set(peerId, client);
    }
    return client;
  }
}
