import { Logger } from '@nestjs/common';
import { backgroundNatsOptions, redactUrl } from '@parley/app-kit';
import { Channel } from '@parley/gossip';
import { NatsConnection, connect } from 'nats';
import { GossipTransport } from './gossip-transport.port';

/** NATS's default max payload is 1 MiB; larger push-pulls are refused and counted. */
const PAYLOAD_BYTES_MAX = 1024 * 1024;

/** The subject a member listens on, derived from its advertised address. */
export function gossipSubject(address: string): string {
  return `parley.gossip.${address.replace(/[.:]/g, '_')}`;
}

/**
 * Gossip over NATS (the seed design): each member subscribes to the subject of its own
 * address; packets and push-pull streams are publishes whose reply field carries the sender's
 * address. NATS being down never blocks start-up: the client connects and reconnects in the
 * background, and what cannot be sent meanwhile is counted (SWIM tolerates lost packets).
 */
export class NatsGossipTransport implements GossipTransport {
  private readonly logger = new Logger('NatsGossip');
  private connection?: NatsConnection;
  private closed = false;
  sendFailures = 0;

  constructor(
    private readonly url: string,
    private readonly ownAddress: string,
  ) {}

  async start(onBytes: (bytes: Uint8Array, fromAddress: string) => void): Promise<void> {
    void connect(backgroundNatsOptions(this.url, `gossip/${this.ownAddress}`)).then(
      (nc) => {
        if (this.closed) return void nc.close();
        this.connection = nc;
        nc.subscribe(gossipSubject(this.ownAddress), {
          callback: (error, msg) => {
            if (!error && msg.reply) onBytes(msg.data, msg.reply);
          },
        });
        this.logger.log(`gossip on NATS ${redactUrl(this.url)}`);
      },
      (error: unknown) => this.logger.error(`NATS gossip transport failed: ${String(error)}`),
    );
  }

  send(to: string, _channel: Channel, bytes: Uint8Array): void {
    const nc = this.connection;
    if (!nc || nc.isClosed() || bytes.length > PAYLOAD_BYTES_MAX) {
      this.sendFailures += 1;
      return;
    }
    try {
      nc.publish(gossipSubject(to), bytes, { reply: this.ownAddress });
    } catch {
      this.sendFailures += 1;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.connection?.drain().catch(() => undefined);
  }
}
