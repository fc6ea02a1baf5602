import { Logger } from '@nestjs/common';
import { backgroundNatsOptions, redactUrl } from '@parley/app-kit';
import { breakerState, createBreaker } from '@parley/resilience';
import { NatsConnection, connect } from 'nats';
import { DeltaBus } from './delta-bus.port';

const PAYLOAD_BYTES_MAX = 1024 * 1024;

/**
 * Deltas on NATS: one subject per cluster for broadcasts and one per replica for anti-entropy
 * replies. The client reconnects forever in the background; while NATS is away nats.js buffers
 * a bounded amount, the rest fails fast and is counted, writes keep being accepted locally, and
 * anti-entropy repairs the difference when NATS returns.
 */
export class NatsDeltaBus implements DeltaBus {
  private readonly logger = new Logger('NatsDeltaBus');
  private connection?: NatsConnection;
  private closed = false;
  private sendFailures = 0;
  private up = false;
  /** Open while NATS keeps failing: publishes fail fast instead of piling up in a buffer. */
  private readonly breaker = createBreaker(
    async (subject: string, bytes: Uint8Array) => {
      const nc = this.connection;
      if (!nc || !this.up || nc.isClosed()) throw new Error('NATS is not connected');
      nc.publish(subject, bytes);
    },
    {
      name: 'crdt-nats',
      timeoutMs: 2_000,
      errorThresholdPercentage: 50,
      resetTimeoutMs: 2_000,
      volumeThreshold: 3,
    },
  );

  constructor(
    private readonly url: string,
    private readonly clusterId: string,
    private readonly replicaId: string,
  ) {}

  private get broadcastSubject(): string {
    return `parley.crdt.${this.clusterId}.all`;
  }

  private replicaSubject(id: string): string {
    return `parley.crdt.${this.clusterId}.replica.${id}`;
  }

  async start(onBytes: (bytes: Uint8Array) => void): Promise<void> {
    void connect(
      backgroundNatsOptions(this.url, `crdt/${this.replicaId}`, {
        reconnectTimeWaitMs: 500,
        pingIntervalMs: 2_000,
      }),
    ).then(
      (nc) => {
        if (this.closed) return void nc.close();
        this.connection = nc;
        this.up = true;
        void this.watch(nc);
        for (const subject of [this.broadcastSubject, this.replicaSubject(this.replicaId)])
          nc.subscribe(subject, { callback: (error, msg) => !error && onBytes(msg.data) });
        this.logger.log(`deltas on NATS ${redactUrl(this.url)}`);
      },
      (error: unknown) => this.logger.error(`NATS delta bus failed: ${String(error)}`),
    );
  }

  broadcast(bytes: Uint8Array): void {
    this.publish(this.broadcastSubject, bytes);
  }

  sendTo(replicaId: string, bytes: Uint8Array): void {
    this.publish(this.replicaSubject(replicaId), bytes);
  }

  private publish(subject: string, bytes: Uint8Array): void {
    if (bytes.length > PAYLOAD_BYTES_MAX) {
      this.sendFailures += 1;
      return;
    }
    this.breaker.fire(subject, bytes).catch(() => {
      this.sendFailures += 1;
    });
  }

  /** Follows the connection's status, so the breaker sees a disconnect at once. */
  private async watch(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') this.up = false;
      if (status.type === 'reconnect') this.up = true;
    }
  }

  state() {
    return {
      transport: 'nats',
      connected: this.up,
      breaker: breakerState(this.breaker),
      sendFailures: this.sendFailures,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.breaker.shutdown();
    await this.connection?.drain().catch(() => undefined);
  }
}
