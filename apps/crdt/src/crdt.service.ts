import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { DeltaLog, PacketOpener, peerTlsFrom, sealPacket } from '@parley/app-kit';
import { CrdtKind, CrdtObject } from '@parley/crdt';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CrdtConfig } from './config';
import { DeltaBus } from './delta-bus/delta-bus.port';
import { DirectDeltaBus } from './delta-bus/direct-delta-bus';
import { NatsDeltaBus } from './delta-bus/nats-delta-bus';
import { Version, whatPeerLacks } from './anti-entropy';
import { ReplicaStore, objectKey } from './replica-store';

const SNAPSHOT_EVERY_RECORDS = 10_000;
const DIGEST_KEYS_PER_MESSAGE = 500;
const STATES_PER_DIGEST_MAX = 1_000;
const MESSAGE_BYTES_MAX = 16 * 1024 * 1024;

type BusMessage =
  | { t: 'delta' | 'state'; from: string; key: string; kind: CrdtKind; body: unknown }
  | { t: 'digest'; from: string; digests: [string, string, Version][] }
  | { t: 'want'; from: string; keys: string[] };

export interface CrdtCounters {
  deltasPublished: number;
  deltasJoined: number;
  statesSent: number;
  /** Anti-entropy answers that were a delta ("only what the other lacks"), not a full state. */
  antiEntropyDeltasSent: number;
  statesJoined: number;
  digestsReceived: number;
  messagesRejected: number;
  messagesMalformed: number;
}

/**
 * A crdt replica: local writes are persisted (group-committed, fsynced) before they are
 * acknowledged, then their delta is broadcast; anti-entropy rounds exchange digests and send
 * full states of whatever differs, so lost deltas and partitions heal without coordination.
 */
@Injectable()
export class CrdtService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Crdt');
  private storeInstance?: ReplicaStore;
  private log?: DeltaLog;
  private bus?: DeltaBus;
  private opener?: PacketOpener;
  private timer?: NodeJS.Timeout;
  readonly counters: CrdtCounters = {
    deltasPublished: 0,
    deltasJoined: 0,
    statesSent: 0,
    antiEntropyDeltasSent: 0,
    statesJoined: 0,
    digestsReceived: 0,
    messagesRejected: 0,
    messagesMalformed: 0,
  };

  constructor(private readonly config: ConfigService<CrdtConfig, true>) {}

  get store(): ReplicaStore {
    if (!this.storeInstance) throw new Error('crdt replica not started');
    return this.storeInstance;
  }

  private get<K extends keyof CrdtConfig>(key: K): CrdtConfig[K] {
    return this.config.get(key, { infer: true });
  }

  async onApplicationBootstrap(): Promise<void> {
    const id = this.get('PARLEY_NODE_ID');
    const dir = join(this.get('PARLEY_DATA_DIR'), id, 'crdt');
    mkdirSync(dir, { recursive: true });
    this.storeInstance = new ReplicaStore(id, this.get('PARLEY_CRDT_OBJECTS_MAX'));
    const { log, replay } = await DeltaLog.open(dir, this.get('PARLEY_CRDT_FSYNC'));
    this.log = log;
    this.replay(replay.snapshot, replay.records);
    if (replay.truncatedAt !== undefined)
      this.logger.warn(`delta log tail torn or corrupt: truncated at byte ${replay.truncatedAt}`);
    this.opener = new PacketOpener(this.get('PARLEY_CLUSTER_SECRET'));
    const natsUrl = this.get('PARLEY_NATS_URL');
    this.bus = natsUrl
      ? new NatsDeltaBus(natsUrl, this.get('PARLEY_CLUSTER_ID'), id)
      : new DirectDeltaBus(
          this.get('PARLEY_HTTP_HOST'),
          this.get('PARLEY_CRDT_PEER_PORT'),
          this.get('PARLEY_CRDT_PEERS') ?? [],
          peerTlsFrom((key) => this.get(key)),
          (reason, remote) =>
            this.logger.warn(`refused a TLS connection from ${remote}: ${reason}`),
        );
    await this.bus.start((bytes) => this.onBytes(bytes));
    this.timer = setInterval(
      () => void this.antiEntropyRound(),
      this.get('PARLEY_CRDT_ANTI_ENTROPY_MS'),
    );
    this.logger.log(
      `crdt replica ${id}: ${this.store.size} objects recovered, ${this.bus.state().transport} bus`,
    );
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.bus?.close();
    if (this.log && this.storeInstance) await this.log.snapshot(() => this.store.snapshot());
    await this.log?.close();
  }

  /** Applies a local mutation: persisted (fsync) first, then broadcast; resolves when durable. */
  async write(
    kind: CrdtKind,
    name: string,
    mutate: (store: ReplicaStore) => CrdtObject,
  ): Promise<void> {
    const delta = mutate(this.store);
    const key = objectKey(kind, name);
    const body = delta.toJSON();
    await this.log!.append({ key, kind, body });
    this.publish({ t: 'delta', from: this.store.replicaId, key, kind, body });
    this.counters.deltasPublished += 1;
  }

  busState() {
    return this.bus?.state();
  }

  private replay(snapshot: unknown, records: unknown[]): void {
    const now = Date.now();
    if (snapshot && typeof snapshot === 'object')
      for (const [key, entry] of Object.entries(snapshot as Record<string, unknown>)) {
        const { kind, state } = (entry ?? {}) as { kind?: unknown; state?: unknown };
        const joined = this.store.join(key, kind, state, now);
        if (!joined.ok)
          throw new Error(`snapshot entry ${key.slice(0, 80)} is invalid: ${joined.error}`);
      }
    for (const record of records) {
      const { key, kind, body } = (record ?? {}) as {
        key?: unknown;
        kind?: unknown;
        body?: unknown;
      };
      const joined =
        typeof key === 'string'
          ? this.store.join(key, kind, body, now)
          : { ok: false as const, error: 'no key' };
      if (!joined.ok) throw new Error(`delta log record is invalid: ${joined.error}`);
    }
  }

  private publish(message: BusMessage, to?: string): void {
    const sealed = sealPacket(
      this.get('PARLEY_CLUSTER_SECRET'),
      Buffer.from(JSON.stringify(message)),
      Date.now(),
    );
    if (to) this.bus?.sendTo(to, sealed);
    else this.bus?.broadcast(sealed);
  }

  private async antiEntropyRound(): Promise<void> {
    const digests = this.store.digests();
    for (let i = 0; i < digests.length || i === 0; i += DIGEST_KEYS_PER_MESSAGE)
      this.publish({
        t: 'digest',
        from: this.store.replicaId,
        digests: digests.slice(i, i + DIGEST_KEYS_PER_MESSAGE),
      });
    if (this.log && this.log.appendedSinceSnapshot >= SNAPSHOT_EVERY_RECORDS)
      await this.log.snapshot(() => this.store.snapshot());
  }

  private onBytes(bytes: Uint8Array): void {
    const opened = this.opener!.open(bytes, Date.now());
    if (!opened.ok) {
      this.counters.messagesRejected += 1;
      return;
    }
    let message: BusMessage;
    try {
      if (opened.payload.length > MESSAGE_BYTES_MAX) throw new Error('too large');
      message = JSON.parse(Buffer.from(opened.payload).toString('utf8')) as BusMessage;
      if (typeof message !== 'object' || message === null || typeof message.from !== 'string')
        throw new Error('shape');
    } catch {
      this.counters.messagesMalformed += 1;
      return;
    }
    if (message.from === this.store.replicaId) return;
    if (message.t === 'digest') return this.onDigest(message.from, message.digests);
    if (message.t === 'want') return this.onWant(message.from, message.keys);
    if (message.t !== 'delta' && message.t !== 'state') {
      this.counters.messagesMalformed += 1;
      return;
    }
    const joined =
      typeof message.key === 'string'
        ? this.store.join(message.key, message.kind, message.body, Date.now())
        : { ok: false as const, error: 'no key' };
    if (!joined.ok) {
      this.counters.messagesMalformed += 1;
      this.logger.warn(`dropped a ${message.t} from ${message.from.slice(0, 64)}: ${joined.error}`);
      return;
    }
    if (message.t === 'delta') this.counters.deltasJoined += 1;
    else this.counters.statesJoined += 1;
  }

  /**
   * Anti-entropy, "send only what the other lacks": for each key in the peer's digest chunk
   * that we hold differently, we send our full state (the peer joins it); for each key we do
   * not hold at all, we ask for it (`want`). Every missing or stale object is thus repaired by
   * whichever side lacks it, whatever the number of chunks. Bounded per message.
   */
  private onDigest(from: string, digests: unknown): void {
    if (!Array.isArray(digests)) {
      this.counters.messagesMalformed += 1;
      return;
    }
    this.counters.digestsReceived += 1;
    const wanted: string[] = [];
    let sent = 0;
    for (const entry of digests.slice(0, DIGEST_KEYS_PER_MESSAGE)) {
      if (!Array.isArray(entry) || typeof entry[0] !== 'string' || typeof entry[1] !== 'string')
        continue;
      const [key, hash, version] = entry as [string, string, Version];
      const held = this.store.entry(key);
      if (!held) {
        wanted.push(key);
        continue;
      }
      if (sent >= STATES_PER_DIGEST_MAX || this.store.hashOf(key) === hash) continue;
      const lacking = whatPeerLacks(held.value, version);
      if (!lacking) continue;
      this.publish(
        { t: 'state', from: this.store.replicaId, key, kind: held.kind, body: lacking.toJSON() },
        from,
      );
      if (lacking === held.value) this.counters.statesSent += 1;
      else this.counters.antiEntropyDeltasSent += 1;
      sent += 1;
    }
    if (wanted.length > 0)
      this.publish({ t: 'want', from: this.store.replicaId, keys: wanted }, from);
  }

  private onWant(from: string, keys: unknown): void {
    if (!Array.isArray(keys)) {
      this.counters.messagesMalformed += 1;
      return;
    }
    for (const key of keys.slice(0, STATES_PER_DIGEST_MAX))
      if (typeof key === 'string' && this.store.entry(key)) this.sendState(from, key);
  }

  private sendState(to: string, key: string): void {
    const held = this.store.entry(key)!;
    this.publish(
      { t: 'state', from: this.store.replicaId, key, kind: held.kind, body: held.value.toJSON() },
      to,
    );
    this.counters.statesSent += 1;
  }
}
