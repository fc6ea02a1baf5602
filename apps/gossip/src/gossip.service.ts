import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import {
  Member,
  MembershipEvent,
  Swim,
  decodeGossipMessage,
  encodeGossipMessage,
} from '@parley/gossip';
import { randomInt } from 'node:crypto';
import { hostname } from 'node:os';
import { GossipConfig } from './config';
import { GossipTransport } from './gossip-transport.port';
import { PacketOpener, peerTlsFrom, sealPacket } from '@parley/app-kit';
import { UdpTcpTransport } from './udp-transport';

/**
 * The NATS transport, required when chosen rather than imported at the top: the nats client is
 * ~12 MiB resident in a process that never uses it.
 */
function natsTransport(): typeof import('./nats-transport') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./nats-transport') as typeof import('./nats-transport');
}

const EVENTS_KEPT = 1_000;
const LEAVE_TICKS_MAX = 50;
const JOIN_RETRY_TICKS = 20;

export interface GossipCounters {
  packetsIn: number;
  packetsRejected: number;
  packetsMalformed: number;
  packetsOut: number;
}

/**
 * The adapter around the pure SWIM core: a timer drives tick() with the real elapsed time (so
 * a stalled process tells the core it stalled), packets are authenticated and decoded before
 * step(), and whatever the core wants sent is encoded, sealed and handed to the transport.
 */
@Injectable()
export class GossipService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Gossip');
  private swimInstance?: Swim;
  private transport?: GossipTransport;
  private opener?: PacketOpener;
  private timer?: NodeJS.Timeout;
  private lastTickAt = 0;
  private ticksSinceJoinAttempt = 0;
  private readonly recentEvents: (MembershipEvent & { at: string })[] = [];
  readonly counters: GossipCounters = {
    packetsIn: 0,
    packetsRejected: 0,
    packetsMalformed: 0,
    packetsOut: 0,
  };

  constructor(private readonly config: ConfigService<GossipConfig, true>) {}

  get swim(): Swim {
    if (!this.swimInstance) throw new Error('gossip not started');
    return this.swimInstance;
  }

  events(): readonly (MembershipEvent & { at: string })[] {
    return this.recentEvents;
  }

  async onApplicationBootstrap(): Promise<void> {
    const get = <K extends keyof GossipConfig>(key: K) => this.config.get(key, { infer: true });
    const host = get('PARLEY_HTTP_HOST');
    const gossipPort = get('PARLEY_GOSSIP_PORT');
    const address =
      get('PARLEY_GOSSIP_ADVERTISE') ?? `${host === '0.0.0.0' ? hostname() : host}:${gossipPort}`;
    this.opener = new PacketOpener(get('PARLEY_CLUSTER_SECRET'));
    this.swimInstance = new Swim({
      id: get('PARLEY_NODE_ID'),
      address,
      meta: {
        role: get('PARLEY_GOSSIP_ROLE'),
        appAddress: get('PARLEY_GOSSIP_APP_ADDRESS'),
        version: '0.1.0',
      },
      random: { nextInt: (max) => randomInt(max) },
      lifeguard: get('PARLEY_GOSSIP_LIFEGUARD'),
      suspicionMult: get('PARLEY_GOSSIP_SUSPICION_MULT'),
    });
    this.transport =
      get('PARLEY_GOSSIP_TRANSPORT') === 'nats'
        ? new (natsTransport().NatsGossipTransport)(get('PARLEY_NATS_URL')!, address)
        : new UdpTcpTransport(
            host,
            gossipPort,
            peerTlsFrom((key) => get(key)),
            (reason, remote) => this.logger.warn(`refused a TLS stream from ${remote}: ${reason}`),
          );
    await this.transport.start((bytes, from) => this.onBytes(bytes, from));
    this.join();
    const tickMs = get('PARLEY_GOSSIP_TICK_MS');
    this.lastTickAt = performance.now();
    this.timer = setInterval(() => this.onTimer(tickMs), tickMs);
    this.logger.log(
      `member ${this.swim.id} gossiping at ${address} (${get('PARLEY_GOSSIP_TRANSPORT')})`,
    );
  }

  /** Graceful leave: announce it, let a few gossip rounds carry it, then stop. */
  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (!this.swimInstance || !this.transport) return;
    this.swim.leave();
    this.flush();
    for (let i = 0; i < LEAVE_TICKS_MAX && this.swim.pendingBroadcasts() > 0; i += 1) {
      this.swim.tick();
      this.flush();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await this.transport.close();
  }

  private join(): void {
    const seeds = this.config.get('PARLEY_GOSSIP_SEEDS', { infer: true }) ?? [];
    this.swim.join(seeds);
    this.flush();
    this.ticksSinceJoinAttempt = 0;
  }

  private onTimer(tickMs: number): void {
    const now = performance.now();
    // Real elapsed ticks: after a pause (GC, SIGSTOP) the core hears it was not running.
    const elapsed = Math.max(1, Math.round((now - this.lastTickAt) / tickMs));
    this.lastTickAt = now;
    this.swim.tick(elapsed);
    this.flush();
    // Alone (seeds were not up yet, or we were cut off): keep knocking, bounded by the interval.
    if (this.swim.liveCount() === 1 && ++this.ticksSinceJoinAttempt >= JOIN_RETRY_TICKS)
      this.join();
  }

  private onBytes(bytes: Uint8Array, from: string): void {
    this.counters.packetsIn += 1;
    const opened = this.opener!.open(bytes, Date.now());
    if (!opened.ok) {
      this.counters.packetsRejected += 1;
      this.logger.debug(`dropped a packet from ${from}: ${opened.reason}`);
      return;
    }
    const decoded = decodeGossipMessage(opened.payload);
    if (!decoded.ok) {
      this.counters.packetsMalformed += 1;
      this.logger.warn(`dropped a malformed message from ${from}: ${decoded.error}`);
      return;
    }
    this.swim.step(decoded.message, from);
    this.flush();
  }

  private flush(): void {
    const { outbound, events } = this.swim.drain();
    const secret = this.config.get('PARLEY_CLUSTER_SECRET', { infer: true });
    for (const out of outbound) {
      const sealed = sealPacket(secret, encodeGossipMessage(out.message), Date.now());
      this.transport!.send(out.to, out.channel, sealed);
      this.counters.packetsOut += 1;
    }
    for (const event of events) {
      if (event.id !== this.swim.id || event.from !== undefined)
        this.logger.log(
          `${event.id}: ${event.from ?? 'new'} -> ${event.to} (incarnation ${event.incarnation})`,
        );
      this.recentEvents.push({ ...event, at: new Date().toISOString() });
      if (this.recentEvents.length > EVENTS_KEPT) this.recentEvents.shift();
    }
  }

  members(): Member[] {
    return this.swim.members();
  }
}
