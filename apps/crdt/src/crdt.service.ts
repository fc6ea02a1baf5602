import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { DeltaLog, PacketOpener, peerTlsFrom, sealPacket } from '@parley/app-kit';
import { InlineWrites } from '@parley/common';
import {
  CrdtBatch,
  CrdtBatchAnswer,
  CrdtKind,
  CrdtObject,
  CrdtWrite,
  CrdtWriteAnswer,
  mergeCrdt,
} from '@parley/crdt';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CrdtConfig } from './config';
import { DeltaBus } from './delta-bus/delta-bus.port';
import { DirectDeltaBus } from './delta-bus/direct-delta-bus';
import { OutboundDelta, OutboundDeltas } from './delta-bus/outbound-deltas';
import { Version, whatPeerLacks } from './anti-entropy';
import { ReplicaStore, StoreFullError, objectKey } from './replica-store';

/**
 * The NATS bus, required when NATS is configured rather than imported at the top: the nats
 * client is ~12 MiB resident in a process that never uses it.
 */
function natsDeltaBus(): typeof import('./delta-bus/nats-delta-bus') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./delta-bus/nats-delta-bus') as typeof import('./delta-bus/nats-delta-bus');
}

const SNAPSHOT_EVERY_RECORDS = 10_000;
const DIGEST_KEYS_PER_MESSAGE = 500;
const STATES_PER_DIGEST_MAX = 1_000;
const MESSAGE_BYTES_MAX = 16 * 1024 * 1024;
/** Source partitions whose applied offsets a replica remembers (a Kafka topic has a few). */
const SOURCES_MAX = 10_000;
/** Objects whose deltas wait for the broadcast linger before they all go at once. */
const OUTBOUND_OBJECTS_MAX = 10_000;

type BusMessage =
  | { t: 'delta' | 'state'; from: string; key: string; kind: CrdtKind; body: unknown }
  | { t: 'source'; from: string; source: string; through: number }
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
 * acknowledged, then their delta is broadcast (merged with the object's other deltas of the
 * next PARLEY_CRDT_BROADCAST_LINGER_MS, see OutboundDeltas); anti-entropy rounds exchange digests and send
 * full states of whatever differs, so lost deltas and partitions heal without coordination.
 */
@Injectable()
export class CrdtService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Crdt');
  private storeInstance?: ReplicaStore;
  private log?: DeltaLog;
  private bus?: DeltaBus;
  private outbound?: OutboundDeltas;
  private opener?: PacketOpener;
  private timer?: NodeJS.Timeout;
  /**
   * The last offset applied per source partition (CrdtBatch), with the write that made it
   * durable: an answer that a batch is held waits for that write.
   */
  private readonly sources = new Map<string, { through: number; durable: Promise<void> }>();
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
    const { log, replay } = await DeltaLog.open(
      dir,
      this.get('PARLEY_CRDT_FSYNC'),
      undefined,
      InlineWrites.withLimitUs(this.get('PARLEY_INLINE_WRITE_MAX_US')),
    );
    this.log = log;
    this.replay(replay.snapshot, replay.records);
    if (replay.truncatedAt !== undefined)
      this.logger.warn(`delta log tail torn or corrupt: truncated at byte ${replay.truncatedAt}`);
    this.opener = new PacketOpener(this.get('PARLEY_CLUSTER_SECRET'));
    const natsUrl = this.get('PARLEY_NATS_URL');
    this.bus = natsUrl
      ? new (natsDeltaBus().NatsDeltaBus)(natsUrl, this.get('PARLEY_CLUSTER_ID'), id)
      : new DirectDeltaBus(
          this.get('PARLEY_HTTP_HOST'),
          this.get('PARLEY_CRDT_PEER_PORT'),
          this.get('PARLEY_CRDT_PEERS') ?? [],
          peerTlsFrom((key) => this.get(key)),
          (reason, remote) =>
            this.logger.warn(`refused a TLS connection from ${remote}: ${reason}`),
        );
    await this.bus.start((bytes) => this.onBytes(bytes));
    this.outbound = new OutboundDeltas(
      this.get('PARLEY_CRDT_BROADCAST_LINGER_MS'),
      OUTBOUND_OBJECTS_MAX,
      (deltas, sources) => {
        const from = this.store.replicaId;
        for (const { key, kind, delta } of deltas) {
          this.publish({ t: 'delta', from, key, kind, body: delta.toJSON() });
          this.counters.deltasPublished += 1;
        }
        for (const { source, through } of sources)
          this.publish({ t: 'source', from, source, through });
      },
    );
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
    this.outbound?.flush();
    await this.bus?.close();
    if (this.log && this.storeInstance) await this.log.snapshot(() => this.snapshotState());
    await this.log?.close();
  }

  /**
   * Applies a local mutation: persisted (fsync) first, then queued for the broadcast (see
   * OutboundDeltas); resolves when durable.
   */
  async write(
    kind: CrdtKind,
    name: string,
    mutate: (store: ReplicaStore) => CrdtObject,
  ): Promise<void> {
    const delta = mutate(this.store);
    const key = objectKey(kind, name);
    const body = delta.toJSON();
    await this.log!.append({ key, kind, body });
    this.outbound!.queue([{ key, kind, delta }]);
  }

  /**
   * A batch of writes from one source partition, applied at most once per offset: its deltas
   * and its `through` go to disk in one log record (so a crash keeps both or neither); a batch
   * held already is answered as such once durable; one that overlaps what is held is refused
   * with the last offset held, for the sender to send what lies beyond it.
   */
  async applyBatch(batch: CrdtBatch): Promise<CrdtBatchAnswer> {
    const held = this.sources.get(batch.source);
    if (held && batch.through <= held.through) {
      await held.durable;
      return { applied: false, through: held.through };
    }
    if (held && batch.from <= held.through) return { overlap: true, through: held.through };
    if (!held && this.sources.size >= SOURCES_MAX)
      return { refused: true, index: 0, reason: `this replica tracks ${SOURCES_MAX} sources` };
    const keys = batch.writes.map((write) => objectKey(kindOf(write), write.name));
    const beyond = this.store.firstBeyondBound(keys);
    if (beyond !== undefined)
      return {
        refused: true,
        index: beyond,
        reason: `the crdt replica is full (PARLEY_CRDT_OBJECTS_MAX objects)`,
      };
    const deltas = new MergedDeltas();
    for (const write of batch.writes) deltas.add(write, applyWrite(this.store, write));
    const entries = deltas.entries();
    const durable = this.log!.append({
      batch: entries,
      source: batch.source,
      through: batch.through,
    });
    this.sources.set(batch.source, { through: batch.through, durable });
    try {
      await durable;
    } catch (error) {
      // Not on disk: the range is not held (memory is ahead of disk, as for a failed write).
      if (this.sources.get(batch.source)?.durable === durable)
        if (held) this.sources.set(batch.source, held);
        else this.sources.delete(batch.source);
      throw error;
    }
    this.outbound!.queue(deltas.objects(), { source: batch.source, through: batch.through });
    return { applied: true, through: batch.through };
  }

  /**
   * The eventual writes of concurrent REST callers, gathered by decision-api into one call:
   * applied in order, the deltas of one object merged, all of them in one log record (one
   * fdatasync, shared with whatever else is waiting: group commit), then one delta per object
   * broadcast. A write with no room for its object is refused alone (507); the rest are
   * applied. Resolves once the record is durable: every 202 in the answer is on this disk.
   */
  async applyWrites(writes: readonly CrdtWrite[]): Promise<CrdtWriteAnswer[]> {
    const deltas = new MergedDeltas();
    const answers = writes.map((write): CrdtWriteAnswer => {
      try {
        deltas.add(write, applyWrite(this.store, write));
        return { status: 202 };
      } catch (error) {
        if (!(error instanceof StoreFullError)) throw error;
        return { status: 507, message: error.message };
      }
    });
    const entries = deltas.entries();
    if (entries.length > 0) {
      await this.log!.append({ batch: entries });
      this.outbound!.queue(deltas.objects());
    }
    return answers;
  }

  /** A peer's (or the disk's) word that a source range is applied: the highest one wins. */
  private noteSource(source: unknown, through: unknown): boolean {
    if (typeof source !== 'string' || source.length > 256) return false;
    if (typeof through !== 'number' || !Number.isSafeInteger(through) || through < 0) return false;
    const held = this.sources.get(source);
    if (held && held.through >= through) return true;
    if (!held && this.sources.size >= SOURCES_MAX) return false;
    this.sources.set(source, { through, durable: held?.durable ?? Promise.resolve() });
    return true;
  }

  private snapshotState(): unknown {
    const sources = Object.fromEntries([...this.sources].map(([s, { through }]) => [s, through]));
    return { version: 2, objects: this.store.snapshot(), sources };
  }

  busState() {
    return this.bus?.state();
  }

  private replay(raw: unknown, records: unknown[]): void {
    const now = Date.now();
    // Version 2 adds the applied source offsets; before it, the snapshot was the objects alone.
    const versioned = (raw as { version?: unknown } | undefined)?.version === 2;
    const snapshot = versioned ? (raw as { objects?: unknown }).objects : raw;
    if (versioned)
      for (const [source, through] of Object.entries(
        ((raw as { sources?: unknown }).sources ?? {}) as Record<string, unknown>,
      ))
        if (!this.noteSource(source, through))
          throw new Error(`snapshot source ${source.slice(0, 80)} is invalid`);
    if (snapshot && typeof snapshot === 'object')
      for (const [key, entry] of Object.entries(snapshot as Record<string, unknown>)) {
        const { kind, state } = (entry ?? {}) as { kind?: unknown; state?: unknown };
        const joined = this.store.join(key, kind, state, now);
        if (!joined.ok)
          throw new Error(`snapshot entry ${key.slice(0, 80)} is invalid: ${joined.error}`);
      }
    for (const record of records) {
      const { batch, source, through } = (record ?? {}) as Record<string, unknown>;
      // A batch record: its deltas and the source offset it brings, together (REST writes
      // gathered into one call bring none).
      const deltas = Array.isArray(batch) ? (batch as unknown[]) : [record];
      for (const delta of deltas) {
        const { key, kind, body } = (delta ?? {}) as Record<string, unknown>;
        const joined =
          typeof key === 'string'
            ? this.store.join(key, kind, body, now)
            : { ok: false as const, error: 'no key' };
        if (!joined.ok) throw new Error(`delta log record is invalid: ${joined.error}`);
      }
      if (Array.isArray(batch) && source !== undefined && !this.noteSource(source, through))
        throw new Error('delta log record is invalid: bad source offset');
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
      await this.log.snapshot(() => this.snapshotState());
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
    if (message.t === 'source') {
      if (!this.noteSource(message.source, message.through)) this.counters.messagesMalformed += 1;
      return;
    }
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

/** The deltas of a batch's writes, those of one object merged into one. */
class MergedDeltas {
  private readonly byKey = new Map<string, { kind: CrdtKind; delta: CrdtObject }>();

  add(write: CrdtWrite, delta: CrdtObject): void {
    const kind = kindOf(write);
    const key = objectKey(kind, write.name);
    const same = this.byKey.get(key);
    if (same) mergeCrdt(same.delta, delta);
    else this.byKey.set(key, { kind, delta });
  }

  entries(): { key: string; kind: CrdtKind; body: unknown }[] {
    return this.objects().map(({ key, kind, delta }) => ({ key, kind, body: delta.toJSON() }));
  }

  /** The merged deltas themselves, once entries() has been written: the broadcast merges on. */
  objects(): OutboundDelta[] {
    return [...this.byKey].map(([key, { kind, delta }]) => ({ key, kind, delta }));
  }
}

function kindOf(write: CrdtWrite): CrdtKind {
  return write.op === 'increment' ? 'counter' : write.op === 'flag' ? 'flag' : 'set';
}

function applyWrite(store: ReplicaStore, write: CrdtWrite): CrdtObject {
  switch (write.op) {
    case 'increment':
      return store.increment(write.name, write.delta);
    case 'set-add':
      return store.addElement(write.name, write.element);
    case 'set-remove':
      return store.removeElement(write.name, write.element);
    case 'flag':
      return store.setFlag(write.name, write.value, Date.now());
  }
}
