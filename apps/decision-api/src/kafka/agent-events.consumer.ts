import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { backoffDelayMs, createBreaker } from '@parley/resilience';
import { ensureTopics } from '@parley/app-kit';
import { CRDT_BATCH_WRITES_MAX, CrdtBatchAnswer, CrdtWrite } from '@parley/crdt';
import type { Admin, Consumer, EachBatchPayload, KafkaMessage, Producer } from 'kafkajs';
import { CommandLogClient } from '../cluster-client/command-log-client';
import { CrdtUpstream } from '../cluster-client/http-upstream';
import { DecisionApiConfig } from '../config';
import { problemFor } from '../http/outcome-to-problem';
import { parseAgentEvent } from './agent-event';
import { EventualRecord, foldEventual, rangesBySize } from './fold';

export const AGENT_EVENTS_TOPIC = 'agent-events';
export const DLQ_TOPIC = 'agent-events.dlq';
const LAG_INTERVAL_MS = 5_000;
/** How often the offsets of applied records are committed (a redelivery after a crash repeats at most this much, without effect). */
const OFFSETS_COMMIT_EVERY_MS = 1_000;
/** Back-off between attempts at what was refused for now: full jitter, capped (no give-up). */
const RETRY_BACKOFF = { delayMsBase: 50, delayMsMax: 5_000 };
/**
 * The most record bytes behind one crdt batch: its JSON stays well within the replica's
 * default body limit (PARLEY_HTTP_BODY_BYTES_MAX, 1 MiB), whatever the chunk size.
 */
const CRDT_BATCH_BYTES_MAX = 256 * 1024;
/** A dead-lettered record keeps at most this much of its value. */
const DEAD_RECORD_BYTES_MAX = 64 * 1024;

export interface ConsumerCounters {
  applied: number;
  replayed: number;
  deadLettered: number;
  retries: number;
  /** Batches (chunks of a partition's fetch) applied and their offsets resolved. */
  batches: number;
}

/** A record turned away for good, with the reason the dead-letter topic carries. */
interface DeadLetter {
  message: KafkaMessage;
  reason: string;
}

/** The chunk's partition is no longer ours (rebalance, stop): its offsets must not be committed. */
class ChunkAbandoned extends Error {}

/**
 * The `agent-events` consumer group: each record becomes the same command as its REST body.
 * Records carry no caller identity: whoever may produce to the topic is trusted as a whole
 * (its ACLs are the boundary), so a vote record may name any agentId and, on a weighted
 * proposal without policy weights, any weight; bound API keys constrain REST votes only.
 *
 * Partitions are consumed concurrently (PARLEY_KAFKA_PARTITIONS_CONCURRENT), each fetch in
 * chunks of PARLEY_KAFKA_BATCH_RECORDS_MAX records: a chunk's strong commands are proposed
 * together, in offset order (so per entity key too: they share one propose-batch and are
 * appended in that order), and its eventual writes are folded into one crdt batch. The
 * chunk's last offset is resolved once every effect is committed, and resolved offsets are
 * committed once a second (at-least-once in);
 * effects are exactly-once: strong ones through their requestId in the Raft state machine,
 * eventual ones because the crdt replica records the last offset it applied per partition
 * with the deltas and skips a range it holds (a redelivery after a restart or a rebalance).
 * What is refused for now (no leader, back-pressure, a transfer, crdt away) is retried with
 * capped, jittered back-off, heartbeating meanwhile; what is refused for good (a record that
 * does not parse or validate, a final refusal) goes to `agent-events.dlq` with the reason,
 * and the records around it are applied. Kafka being down never stops the API: the client
 * connects and reconnects in the background.
 */
@Injectable()
export class AgentEventsConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('AgentEvents');
  private consumer?: Consumer;
  private producer?: Producer;
  private admin?: Admin;
  private lagTimer?: NodeJS.Timeout;
  /** Messages behind the end of agent-events for this group (refreshed every few seconds). */
  lag: number | undefined;
  /** Whether the consumer is in its group and fetching (for readiness). */
  running = false;
  private stopped = false;
  /**
   * The dead-letter producer behind an opossum breaker: while Kafka keeps failing, the chunk
   * is not committed (it will be redelivered) and the breaker shows open in metrics/readiness.
   */
  private readonly dlqBreaker = createBreaker(
    async (letters: DeadLetter[], topic: string, partition: number) => {
      await this.producer!.send({
        topic: DLQ_TOPIC,
        messages: letters.map(({ message, reason }) => ({
          key: message.key,
          value: JSON.stringify({
            reason,
            topic,
            partition,
            offset: message.offset,
            record: message.value?.toString('utf8').slice(0, DEAD_RECORD_BYTES_MAX) ?? null,
          }),
        })),
      });
    },
    {
      name: 'kafka-dlq',
      timeoutMs: 10_000,
      errorThresholdPercentage: 50,
      resetTimeoutMs: 5_000,
      volumeThreshold: 3,
    },
  );
  readonly counters: ConsumerCounters = {
    applied: 0,
    replayed: 0,
    deadLettered: 0,
    retries: 0,
    batches: 0,
  };

  constructor(
    private readonly config: ConfigService<DecisionApiConfig, true>,
    private readonly log: CommandLogClient,
    private readonly crdt: CrdtUpstream,
  ) {}

  private get<K extends keyof DecisionApiConfig>(key: K): DecisionApiConfig[K] {
    return this.config.get(key, { infer: true });
  }

  async onApplicationBootstrap(): Promise<void> {
    const brokers = this.get('PARLEY_KAFKA_BROKERS');
    if (!brokers) return;
    // Required here, with brokers configured, not imported at the top: kafkajs is ~13 MiB
    // resident.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { Kafka, logLevel } = require('kafkajs') as typeof import('kafkajs');
    const kafka = new Kafka({
      clientId: `decision-api-${this.get('PARLEY_NODE_ID')}`,
      brokers,
      logLevel: logLevel.NOTHING,
      retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 5_000 },
    });
    this.consumer = kafka.consumer({
      groupId: this.groupId,
      // A chunk that waits out a leader election must not cost the partition: heartbeats go
      // on during the wait, and the session outlives a few missed ones.
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
    });
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    this.admin = kafka.admin();
    const { GROUP_JOIN, CRASH, DISCONNECT, STOP } = this.consumer.events;
    this.consumer.on(GROUP_JOIN, () => (this.running = true));
    for (const event of [CRASH, DISCONNECT, STOP])
      this.consumer.on(event, () => (this.running = false));
    this.lagTimer = setInterval(() => void this.measureLag(), LAG_INTERVAL_MS);
    this.lagTimer.unref();
    void this.startWithRetries();
  }

  /**
   * Kafka may be down, or the topics not there yet, when the API starts: keep trying, with
   * jittered back-off capped at 30 s, until the consumer runs (kafkajs then restarts it itself
   * after a crash). Stops trying on shutdown, and on a topic that disagrees with the
   * configuration (an operator's decision, not something time fixes).
   */
  private async startWithRetries(): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt += 1) {
      try {
        await this.run();
        return;
      } catch (error) {
        if (error instanceof Error && error.name === 'TopicMismatchError') {
          this.logger.error(`agent-events consumer not started: ${error.message}`);
          return;
        }
        this.logger.warn(
          `agent-events consumer not started yet (attempt ${attempt + 1}): ${String(error)}`,
        );
        await this.consumer?.disconnect().catch(() => undefined);
        await sleep(backoffDelayMs(attempt, { delayMsBase: 500, delayMsMax: 30_000 }, Math.random));
      }
    }
  }

  private async run(): Promise<void> {
    // The topics are created as configured, or checked against it: a fresh broker must not
    // stall the consumer, and a topic that disagrees is named with what differs.
    await this.admin!.connect();
    const replicationFactor = this.get('PARLEY_KAFKA_REPLICATION_FACTOR');
    await ensureTopics(this.admin!, [
      {
        topic: AGENT_EVENTS_TOPIC,
        numPartitions: this.get('PARLEY_KAFKA_AGENT_EVENTS_PARTITIONS'),
        replicationFactor,
      },
      {
        topic: DLQ_TOPIC,
        numPartitions: this.get('PARLEY_KAFKA_DLQ_PARTITIONS'),
        replicationFactor,
      },
    ]);
    await this.producer!.connect();
    await this.consumer!.connect();
    await this.consumer!.subscribe({ topic: AGENT_EVENTS_TOPIC, fromBeginning: true });
    await this.consumer!.run({
      // Offsets are resolved by hand, once a chunk's effects are committed, and kafkajs commits
      // what is resolved once a second (and on a rebalance or a stop): never an offset whose
      // record is not applied, and no broker round trip between one chunk and the next.
      autoCommit: true,
      autoCommitInterval: OFFSETS_COMMIT_EVERY_MS,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.get('PARLEY_KAFKA_PARTITIONS_CONCURRENT'),
      eachBatch: (payload) => this.eachBatch(payload),
    });
    this.logger.log('consuming agent-events');
  }

  /** A partition's fetch, chunk by chunk; each chunk's offsets resolved after its effects. */
  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, commitOffsetsIfNecessary, heartbeat, isRunning, isStale } =
      payload;
    const chunkMax = this.get('PARLEY_KAFKA_BATCH_RECORDS_MAX');
    const stillOurs = async () => {
      if (!isRunning() || isStale()) throw new ChunkAbandoned();
      await heartbeat();
    };
    try {
      for (let start = 0; start < batch.messages.length; start += chunkMax) {
        await stillOurs();
        const chunk = batch.messages.slice(start, start + chunkMax);
        await this.handleChunk(batch.topic, batch.partition, chunk, stillOurs);
        resolveOffset(chunk[chunk.length - 1].offset);
        await commitOffsetsIfNecessary();
        this.counters.batches += 1;
      }
    } catch (error) {
      // Not committed: whoever owns the partition next gets the chunk again, and its effects
      // are not repeated.
      if (!(error instanceof ChunkAbandoned)) throw error;
    }
  }

  /** One chunk: parsed, strong and eventual effects applied side by side, then dead letters. */
  private async handleChunk(
    topic: string,
    partition: number,
    messages: KafkaMessage[],
    stillOurs: () => Promise<void>,
  ): Promise<void> {
    const dead: DeadLetter[] = [];
    const strong: { message: KafkaMessage; command: Record<string, unknown> }[] = [];
    const eventual: (EventualRecord & { message: KafkaMessage })[] = [];
    for (const message of messages) {
      const parsed = parseAgentEvent(message.value);
      if (!parsed.ok) dead.push({ message, reason: parsed.reason });
      else if (parsed.effect.kind === 'strong')
        strong.push({ message, command: parsed.effect.command });
      else
        eventual.push({
          message,
          offset: Number(message.offset),
          requestId: parsed.effect.requestId,
          write: parsed.effect.write,
        });
    }
    const [strongDead, eventualDead] = await Promise.all([
      this.applyStrong(topic, partition, strong, stillOurs),
      this.applyEventual(topic, partition, messages, eventual, stillOurs),
    ]);
    dead.push(...strongDead, ...eventualDead);
    if (dead.length === 0) return;
    await this.dlqBreaker.fire(dead, topic, partition);
    this.counters.deadLettered += dead.length;
    for (const { message, reason } of dead)
      this.logger.warn(`agent-events ${partition}@${message.offset} dead-lettered: ${reason}`);
  }

  /**
   * The chunk's strong commands, proposed together in offset order; those refused for now are
   * proposed again together (still in order) after a back-off, until each is applied or
   * refused for good. A leader appends a batch's proposals in order and a new leader keeps a
   * prefix of them, so what is proposed again follows what passed.
   */
  private async applyStrong(
    topic: string,
    partition: number,
    records: { message: KafkaMessage; command: Record<string, unknown> }[],
    stillOurs: () => Promise<void>,
  ): Promise<DeadLetter[]> {
    const dead: DeadLetter[] = [];
    let pending = records;
    for (let attempt = 0; pending.length > 0; attempt += 1) {
      if (attempt > 0) await this.pause(attempt - 1, stillOurs);
      const outcomes = await Promise.all(
        pending.map(({ message, command }) =>
          this.log.proposeOnce(command, `kafka:${topic}/${partition}@${message.offset}`),
        ),
      );
      const again: typeof records = [];
      outcomes.forEach((outcome, i) => {
        if (outcome.kind === 'applied') {
          if (outcome.applied.replayed) this.counters.replayed += 1;
          else this.counters.applied += 1;
        } else if (outcome.kind === 'refused') {
          // Dead-lettered with the status, type and detail a REST client would get for it.
          const reason = `refused: ${problemFor(outcome.refusal.outcome).describe()}`;
          dead.push({ message: pending[i].message, reason });
        } else again.push(pending[i]);
      });
      pending = again;
    }
    return dead;
  }

  /**
   * The chunk's eventual writes, folded, as one crdt batch for the chunk's offset range (or a
   * few consecutive ones, each within the replica's body limit). The replica applies a range
   * once; if it holds part of it (a chunk cut differently before), the records beyond what it
   * holds are folded again; a write it refuses for good dead-letters the records behind it and
   * the rest go again.
   */
  private async applyEventual(
    topic: string,
    partition: number,
    messages: KafkaMessage[],
    records: (EventualRecord & { message: KafkaMessage })[],
    stillOurs: () => Promise<void>,
  ): Promise<DeadLetter[]> {
    if (records.length === 0) return [];
    const dead: DeadLetter[] = [];
    const ranges = rangesBySize(
      records.map((r) => ({ ...r, bytes: r.message.value?.length ?? 0 })),
      Number(messages[0].offset),
      Number(messages[messages.length - 1].offset),
      CRDT_BATCH_BYTES_MAX,
      CRDT_BATCH_WRITES_MAX,
    );
    for (const range of ranges)
      dead.push(...(await this.applyRange(`${topic}/${partition}`, range, stillOurs)));
    return dead;
  }

  private async applyRange(
    source: string,
    range: {
      from: number;
      through: number;
      records: (EventualRecord & { message: KafkaMessage })[];
    },
    stillOurs: () => Promise<void>,
  ): Promise<DeadLetter[]> {
    const dead: DeadLetter[] = [];
    const { through } = range;
    let { from, records: pending } = range;
    for (let attempt = 0; pending.length > 0;) {
      const folded = foldEventual(pending);
      const writes: CrdtWrite[] = folded.map((f) => f.write);
      const answer = await this.crdtBatch({ source, from, through, writes });
      if (answer === undefined) {
        await this.pause(attempt++, stillOurs);
        continue;
      }
      if ('applied' in answer) {
        if (answer.applied) this.counters.applied += pending.length;
        else this.counters.replayed += pending.length;
        return dead;
      }
      if ('overlap' in answer) {
        this.counters.replayed += pending.filter((r) => r.offset <= answer.through).length;
        pending = pending.filter((r) => r.offset > answer.through);
        from = answer.through + 1;
        continue;
      }
      const refused = new Set(folded[answer.index]?.offsets ?? pending.map((r) => r.offset));
      for (const record of pending)
        if (refused.has(record.offset))
          dead.push({ message: record.message, reason: `refused by crdt: ${answer.reason}` });
      pending = pending.filter((r) => !refused.has(r.offset));
    }
    return dead;
  }

  /** The crdt replica's answer to a batch, or undefined when it could not answer (retry). */
  private async crdtBatch(batch: {
    source: string;
    from: number;
    through: number;
    writes: CrdtWrite[];
  }): Promise<CrdtBatchAnswer | undefined> {
    try {
      const { status, json } = await this.crdt.call('POST', '/v1/crdt/batches', batch);
      if ([200, 400, 409, 507].includes(status) && typeof json === 'object' && json !== null)
        return json as CrdtBatchAnswer;
      this.logger.warn(`crdt answered a batch with ${status}; retrying`);
    } catch (error) {
      this.logger.warn(`crdt batch not applied yet: ${(error as Error).message}`);
    }
    return undefined;
  }

  /** Waits before another attempt, heartbeating; throws when the partition is no longer ours. */
  private async pause(attempt: number, stillOurs: () => Promise<void>): Promise<void> {
    this.counters.retries += 1;
    const until = Date.now() + backoffDelayMs(attempt, RETRY_BACKOFF, Math.random);
    for (;;) {
      await stillOurs();
      const left = until - Date.now();
      if (left <= 0) return;
      await sleep(Math.min(left, 1_000));
    }
  }

  /** Committed offsets against the end of each partition, summed. */
  private async measureLag(): Promise<void> {
    try {
      await this.admin!.connect();
      const ends = await this.admin!.fetchTopicOffsets(AGENT_EVENTS_TOPIC);
      const [group] = await this.admin!.fetchOffsets({
        groupId: this.groupId,
        topics: [AGENT_EVENTS_TOPIC],
      });
      this.lag = ends.reduce((sum, end) => {
        const committed = Number(
          group?.partitions.find((p) => p.partition === end.partition)?.offset ?? -1,
        );
        return sum + Math.max(0, Number(end.offset) - Math.max(0, committed));
      }, 0);
    } catch {
      this.lag = undefined; // unknown while Kafka is away
    }
  }

  private get groupId(): string {
    return this.get('PARLEY_KAFKA_GROUP_ID');
  }

  get configured(): boolean {
    return this.consumer !== undefined;
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.lagTimer);
    this.dlqBreaker.shutdown();
    await this.admin?.disconnect().catch(() => undefined);
    await this.consumer?.disconnect().catch(() => undefined);
    await this.producer?.disconnect().catch(() => undefined);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
