import { randomUUID } from 'node:crypto';
import CircuitBreaker from 'opossum';
import { Admin, Kafka, logLevel, Message, Producer } from 'kafkajs';
import { ensureTopics } from '@parley/app-kit';
import { createBreaker } from '@parley/resilience';
import { MirrorBuffer } from './mirror-buffer';
import { AppliedRecord, entityKey } from './mirror-record';

/**
 * How many raft-log records (of every cluster sharing the topic) a new leader reads at most,
 * backwards from the end, looking for its cluster's last commit; in windows of
 * 2 * batchRecordsMax + 2, and at least MIN_TAIL_WINDOWS of them.
 */
const MAX_TAIL_RECORDS = 50_000;
const MIN_TAIL_WINDOWS = 5;
/** Silence that ends a tail scan: what is left are aborted records and markers. */
const TAIL_IDLE_MS = 2_000;
/**
 * The replicated cursor is proposed at most this often: each proposal is a Raft entry every
 * replica writes and applies, and the cursor only bounds snapshots and a new leader's resume
 * (which also reads raft-log's tail), so a second's lag costs nothing.
 */
const CURSOR_EVERY_MS = 1_000;
/**
 * Record bytes per produce request, well within a broker's default message.max.bytes (one
 * command may still exceed it: it goes alone).
 */
const SEND_BYTES_MAX = 256 * 1024;
/** Entries per produce request: each request is encoded without yielding the event loop. */
const SEND_ENTRIES_MAX = 500;

/**
 * The index in a raft-log record of cluster `clusterId`, or undefined for a record that is not
 * ours: several clusters may share one topic, and another cluster's higher index must never make
 * this one skip its own entries.
 */
function parseIndex(value: Buffer | null, clusterId: string): number | undefined {
  try {
    const parsed = JSON.parse(value?.toString() ?? 'null') as {
      index?: unknown;
      cluster?: unknown;
    } | null;
    return parsed?.cluster === clusterId &&
      typeof parsed.index === 'number' &&
      Number.isSafeInteger(parsed.index)
      ? parsed.index
      : undefined;
  } catch {
    return undefined;
  }
}

export interface KafkaMirrorOptions {
  brokers: string[];
  /** Names the transactional producer: one per cluster, so a new leader fences the old one. */
  clusterId: string;
  nodeId: string;
  rawLogTopic: string;
  decisionsTopic: string;
  decisionsPartitions: number;
  /** Of both topics; raft-log always has one partition (the log, in index order). */
  replicationFactor: number;
  /** Records kept in memory waiting for Kafka; beyond it the oldest are dropped (and logged). */
  bufferedRecordsMax: number;
  batchRecordsMax: number;
  /**
   * Least milliseconds between the starts of two transactions unless SEND_ENTRIES_MAX records
   * wait: fewer, larger transactions under load, at most this much added latency.
   */
  lingerMs: number;
  isLeader: () => boolean;
  /** The replicated mirror cursor: what every replica knows was published. */
  replicatedCursor: () => number;
  /** Proposes a new replicated cursor through the log. */
  proposeCursor: (index: number) => void;
  logger: { log(m: string): void; warn(m: string): void; error(m: string): void };
}

/**
 * Mirrors committed commands to Kafka: `raft-log` (compacted, keyed by entity) and outcomes to
 * `decisions`. Only the leader publishes, in index order, in Kafka transactions under one
 * transactional id per cluster: a new leader's producer fences the old one, and it resumes
 * after the highest index committed in `raft-log`, so every index appears once, in order,
 * across leader changes, restarts and broker outages. The producer sits behind an opossum
 * breaker; while it is open, records wait (bounded) and snapshots are held back so the log
 * still has them.
 */
export class KafkaMirror {
  private readonly kafka: Kafka;
  private readonly buffer: MirrorBuffer;
  private producer: Producer | undefined;
  private admin: Admin | undefined;
  private readonly breaker: CircuitBreaker<[AppliedRecord[]], void>;
  /** Highest index known to be committed in Kafka, once resolved for this leadership. */
  private published: number | undefined;
  private pumping = false;
  /** A pump is queued by record() (setImmediate): at most one at a time. */
  private pumpQueued = false;
  private lingerTimer: NodeJS.Timeout | undefined;
  private lastTransactionAt = 0;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private topicsReady = false;
  private lastProposedCursor = 0;
  private lastProposedAt = 0;
  dropped = 0;
  /**
   * Partition 0 when `decisions` has one (raft-log always has): a record whose partition is set
   * skips kafkajs's key hash (murmur2 in JavaScript, ~5 µs a record on the leader's event loop);
   * with more partitions kafkajs hashes the key, as the Java client does.
   */
  private readonly singlePartition: number | undefined;

  constructor(private readonly options: KafkaMirrorOptions) {
    this.buffer = new MirrorBuffer(options.bufferedRecordsMax);
    this.singlePartition = options.decisionsPartitions === 1 ? 0 : undefined;
    this.kafka = new Kafka({
      clientId: `parley-command-log-${options.nodeId}`,
      brokers: options.brokers,
      logLevel: logLevel.NOTHING,
      retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 },
    });
    this.breaker = createBreaker((records: AppliedRecord[]) => this.publish(records), {
      name: 'kafka-mirror',
      timeoutMs: 15_000,
      errorThresholdPercentage: 50,
      resetTimeoutMs: 3_000,
      volumeThreshold: 1,
    });
  }

  /** Called for every applied command, on every replica (any of them may lead later). */
  record(record: AppliedRecord): void {
    if (record.index <= this.options.replicatedCursor()) return;
    // The log's own bookkeeping is not a decision; mirroring cursor entries would also feed
    // the mirror its own output forever. A clock entry stays when it closed a proposal at its
    // deadline: that decision goes to `decisions` (the entry itself not to raft-log).
    if (record.command.type === 'mirror.cursor') return;
    if (record.command.type === 'clock' && record.events.length === 0) return;
    const dropped = this.buffer.add(record);
    if (dropped !== undefined) {
      this.dropped += 1;
      this.options.logger.error(`mirror buffer full: record ${dropped} will be missing from Kafka`);
    }
    // Published as soon as the current transaction ends: waiting for the next tick would add
    // up to a tick to every decision's way to `decisions`.
    if (!this.pumpQueued && this.published !== undefined) {
      this.pumpQueued = true;
      setImmediate(() => {
        this.pumpQueued = false;
        void this.pump();
      });
    }
  }

  /** Snapshots must not pass what Kafka has, or a new leader could not publish the rest. */
  floor(): number {
    return this.options.replicatedCursor();
  }

  start(intervalMs = 50): void {
    this.timer = setInterval(() => void this.pump(), intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.breaker.shutdown();
    await this.producer?.disconnect().catch(() => undefined);
    await this.admin?.disconnect().catch(() => undefined);
  }

  breakerState(): 'open' | 'half-open' | 'closed' {
    return this.breaker.opened ? 'open' : this.breaker.halfOpen ? 'half-open' : 'closed';
  }

  private async pump(): Promise<void> {
    if (this.pumping || this.stopped) return;
    this.pumping = true;
    try {
      this.buffer.dropThrough(this.options.replicatedCursor());
      if (!this.options.isLeader()) {
        if (this.published !== undefined) await this.resetProducer();
        this.published = undefined;
        return;
      }
      if (this.breaker.opened) return;
      let published = this.published;
      if (published === undefined) {
        await this.breaker.fire([]); // connects and fences any older leader, through the breaker
        published = await this.resolvePublished();
        this.published = published;
      }
      this.buffer.dropThrough(published);
      if (this.buffer.size === 0) return this.maybeProposeCursor();
      const lingerLeftMs = this.lastTransactionAt + this.options.lingerMs - Date.now();
      if (lingerLeftMs > 0 && this.buffer.size < SEND_ENTRIES_MAX) {
        this.lingerTimer ??= setTimeout(() => {
          this.lingerTimer = undefined;
          void this.pump();
        }, lingerLeftMs);
        return;
      }
      const batch = this.buffer.oldest(this.options.batchRecordsMax);
      this.lastTransactionAt = Date.now();
      await this.breaker.fire(batch);
      this.published = batch[batch.length - 1].index;
      this.buffer.dropThrough(this.published);
      this.maybeProposeCursor();
      // More waiting: the next transaction goes at once, not at the next tick.
      if (this.buffer.size > 0) setImmediate(() => void this.pump());
    } catch (error) {
      // The breaker counts it; the records stay buffered and go out once Kafka is back.
      this.options.logger.warn(`mirror: ${(error as Error).message}`);
      await this.resetProducer();
      this.published = undefined;
    } finally {
      this.pumping = false;
    }
  }

  private maybeProposeCursor(): void {
    const published = this.published ?? 0;
    const meaningful =
      published > this.lastProposedCursor && published > this.options.replicatedCursor();
    if (!meaningful || Date.now() - this.lastProposedAt < CURSOR_EVERY_MS) return;
    this.lastProposedCursor = published;
    this.lastProposedAt = Date.now();
    this.options.proposeCursor(published);
  }

  private async connect(): Promise<Producer> {
    if (!this.admin) {
      this.admin = this.kafka.admin();
      await this.admin.connect();
    }
    if (!this.topicsReady) {
      const { replicationFactor } = this.options;
      await ensureTopics(this.admin, [
        {
          topic: this.options.rawLogTopic,
          numPartitions: 1,
          replicationFactor,
          cleanupPolicy: 'compact',
        },
        {
          topic: this.options.decisionsTopic,
          numPartitions: this.options.decisionsPartitions,
          replicationFactor,
        },
      ]);
      this.topicsReady = true;
    }
    if (!this.producer) {
      const producer = this.kafka.producer({
        transactionalId: `parley-mirror-${this.options.clusterId}`,
        idempotent: true,
        maxInFlightRequests: 1,
        // A transaction that begins right after the last one committed is often told
        // CONCURRENT_TRANSACTIONS while the coordinator writes the last one's markers; that
        // takes milliseconds, and kafkajs's first back-off (100 ms here) would add a tenth of a
        // second to the decisions behind it. The Java client waits 20 ms for this error.
        retry: { retries: 10, initialRetryTime: 10, maxRetryTime: 1_000 },
      });
      await producer.connect();
      // connect() does not claim the transactional id (kafkajs runs InitProducerId on the first
      // transaction only), and until it is claimed an older leader's producer can still commit.
      // An empty transaction claims it: the broker bumps the epoch, fencing the old producer,
      // and finishes its open transaction, so the tail read next is final. Aborting an empty
      // transaction sends nothing.
      const fence = await producer.transaction();
      await fence.abort();
      this.producer = producer;
    }
    return this.producer;
  }

  private async resetProducer(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    await producer?.disconnect().catch(() => undefined);
  }

  /**
   * The highest index committed in raft-log (read_committed), or the replicated cursor. Reads
   * the tail in windows going backwards, because the newest offsets may belong to aborted
   * transactions (a broker outage mid-commit) that read_committed never delivers.
   */
  private async resolvePublished(): Promise<number> {
    await this.connect(); // claims the transactional id: no older leader commits after this
    const offsets = await this.admin!.fetchTopicOffsets(this.options.rawLogTopic);
    const low = Number(offsets[0].low);
    const high = Number(offsets[0].high);
    const cursor = this.options.replicatedCursor();
    const window = 2 * this.options.batchRecordsMax + 2;
    for (
      let end = high, windows = 0;
      end > low && windows < Math.max(MIN_TAIL_WINDOWS, Math.ceil(MAX_TAIL_RECORDS / window));
      end -= window, windows += 1
    ) {
      // A scan reads up to MAX_TAIL_RECORDS on the event loop: a replica that stopped leading
      // meanwhile has no use for the answer and must not go on paying for it.
      if (!this.options.isLeader())
        throw new Error('leadership moved during the raft-log tail scan');
      const found = await this.highestIndexIn(Math.max(low, end - window), end);
      if (found !== undefined) {
        this.options.logger.log(`mirror resumes after index ${Math.max(found, cursor)}`);
        return Math.max(found, cursor);
      }
    }
    return cursor;
  }

  /** The highest `index` among committed raft-log records in offsets [from, to). */
  private async highestIndexIn(from: number, to: number): Promise<number | undefined> {
    const consumer = this.kafka.consumer({
      groupId: `parley-mirror-probe-${randomUUID()}`,
      readUncommitted: false,
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topic: this.options.rawLogTopic, fromBeginning: true });
      return await new Promise<number | undefined>((resolve) => {
        let best: number | undefined;
        // Aborted records and transaction markers are never delivered as messages, and a
        // window usually ends in a marker: a fetched batch counts them in its last offset, so
        // the window ends when the batch holding its last offset is done (after its messages).
        consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
          if (Number(payload.lastOffset) >= to - 1) resolve(best);
        });
        // Silence also ends the scan (a window of aborted records only, a fetch that says
        // nothing of them).
        let idle = setTimeout(() => resolve(best), TAIL_IDLE_MS);
        void consumer.run({
          eachMessage: async ({ message }) => {
            clearTimeout(idle);
            const index = parseIndex(message.value, this.options.clusterId);
            if (Number(message.offset) < to && index !== undefined)
              best = Math.max(best ?? 0, index);
            if (Number(message.offset) >= to - 1) return resolve(best);
            idle = setTimeout(() => resolve(best), TAIL_IDLE_MS);
          },
        });
        consumer.seek({ topic: this.options.rawLogTopic, partition: 0, offset: String(from) });
      });
    } finally {
      await consumer.disconnect().catch(() => undefined);
    }
  }

  /** One entry's records: its command for raft-log (not a clock tick's) and its outcomes. */
  private messagesOf(record: AppliedRecord): {
    raftLog?: Message;
    decisions: Message[];
    bytes: number;
  } {
    let raftLog: Message | undefined;
    let bytes = 0;
    if (record.command.type !== 'clock') {
      // Keyed per cluster too: clusters sharing the topic must not compact each other's records.
      const key = `${this.options.clusterId}/${entityKey(record.command)}`;
      const value = JSON.stringify({
        cluster: this.options.clusterId,
        index: record.index,
        term: record.term,
        command: record.command,
      });
      raftLog = { key, value, partition: 0 };
      bytes += key.length + value.length;
    }
    // One record per outcome (libs/decision's DecisionEvent): a replay or a session refusal
    // decided nothing and has none; a proposal closed at its deadline has its own.
    const decisions = record.events.map((event) => {
      const value = JSON.stringify({ cluster: this.options.clusterId, ...event });
      bytes += event.entity.length + value.length;
      return { key: event.entity, value, partition: this.singlePartition };
    });
    return { raftLog, decisions, bytes };
  }

  private async publish(records: AppliedRecord[]): Promise<void> {
    const producer = await this.connect();
    if (records.length === 0) return;
    const transaction = await producer.transaction();
    try {
      // Both topics in one produce request (one round trip to add the partitions to the
      // transaction and one to produce, not two of each: on a busy broker each is slow). A
      // transaction goes in several requests: each request carries one record batch per
      // partition, which the broker refuses beyond its message.max.bytes (1 MB by default),
      // and each is encoded in one go on the leader's event loop, which must not stall for
      // long enough to look like a dead leader to its followers.
      let raftLog: Message[] = [];
      let decisions: Message[] = [];
      let entries = 0;
      let bytes = 0;
      const send = async () => {
        await transaction.sendBatch({
          topicMessages: [
            ...(raftLog.length > 0 ? [{ topic: this.options.rawLogTopic, messages: raftLog }] : []),
            ...(decisions.length > 0
              ? [{ topic: this.options.decisionsTopic, messages: decisions }]
              : []),
          ],
        });
        raftLog = [];
        decisions = [];
        entries = 0;
        bytes = 0;
      };
      for (const record of records) {
        const entry = this.messagesOf(record);
        if (entries > 0 && (entries >= SEND_ENTRIES_MAX || bytes + entry.bytes > SEND_BYTES_MAX))
          await send();
        entries += 1;
        bytes += entry.bytes;
        if (entry.raftLog) raftLog.push(entry.raftLog);
        decisions.push(...entry.decisions);
      }
      if (raftLog.length + decisions.length > 0) await send();
      await transaction.commit();
    } catch (error) {
      await transaction.abort().catch(() => undefined);
      throw error;
    }
  }
}
