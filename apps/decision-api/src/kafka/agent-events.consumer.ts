import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { backoffDelayMs, createBreaker } from '@parley/resilience';
import { Admin, Consumer, Kafka, KafkaMessage, Producer, ProducerRecord, logLevel } from 'kafkajs';
import { CommandLogClient } from '../cluster-client/command-log-client';
import { CrdtUpstream } from '../cluster-client/http-upstream';
import { DecisionApiConfig } from '../config';
import { ClusterRefused, isFinal, isTransient } from '../cluster-client/outcomes';
import { problemFor } from '../http/outcome-to-problem';
import { AgentEffect, parseAgentEvent } from './agent-event';

/**
 * A final refusal (invalid, requestId reused with another body, idempotency window passed) will
 * never succeed: its record is dead-lettered. Anything else is redelivered, including the
 * temporary refusals (back-pressure, a leadership transfer), which applyWithRetries already
 * retried with back-off: they pass on their own.
 */
export function isFinalRefusal(error: unknown): error is ClusterRefused {
  return error instanceof ClusterRefused && isFinal(error.outcome);
}

export const AGENT_EVENTS_TOPIC = 'agent-events';
export const DLQ_TOPIC = 'agent-events.dlq';
const EFFECT_ATTEMPTS_MAX = 30;
const EVENTUAL_IDS_REMEMBERED = 100_000;
const LAG_INTERVAL_MS = 5_000;

export interface ConsumerCounters {
  applied: number;
  replayed: number;
  deadLettered: number;
  retries: number;
}

/**
 * The `agent-events` consumer group: each record becomes the same command as its REST body.
 * Records carry no caller identity: whoever may produce to the topic is trusted as a whole
 * (its ACLs are the boundary), so a vote record may name any agentId and, on a weighted
 * proposal without policy weights, any weight; bound API keys constrain REST votes only.
 * The offset is committed only after the effect is committed (at-least-once in); strong
 * effects are exactly-once through their requestId, eventual ones are de-duplicated by a
 * bounded memory of recent requestIds. A record that does not parse or validate goes to
 * `agent-events.dlq` with the reason and its offset is committed: it never stops the consumer.
 * Kafka being down never stops the API: the client connects and reconnects in the background.
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
  private readonly eventualSeen = new Set<string>();
  /**
   * The dead-letter producer behind an opossum breaker: while Kafka keeps failing, the record
   * is not committed (it will be redelivered) and the breaker shows open in metrics/readiness.
   */
  private readonly dlqBreaker = createBreaker(
    async (record: ProducerRecord) => {
      await this.producer!.send(record);
    },
    {
      name: 'kafka-dlq',
      timeoutMs: 10_000,
      errorThresholdPercentage: 50,
      resetTimeoutMs: 5_000,
      volumeThreshold: 3,
    },
  );
  readonly counters: ConsumerCounters = { applied: 0, replayed: 0, deadLettered: 0, retries: 0 };

  constructor(
    private readonly config: ConfigService<DecisionApiConfig, true>,
    private readonly log: CommandLogClient,
    private readonly crdt: CrdtUpstream,
  ) {}

  onApplicationBootstrap(): void {
    const brokers = this.config.get('PARLEY_KAFKA_BROKERS', { infer: true });
    if (!brokers) return;
    const kafka = new Kafka({
      clientId: `decision-api-${this.config.get('PARLEY_NODE_ID', { infer: true })}`,
      brokers,
      logLevel: logLevel.NOTHING,
      retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 5_000 },
    });
    this.consumer = kafka.consumer({ groupId: this.groupId });
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
   * after a crash). Stops trying on shutdown.
   */
  private async startWithRetries(): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt += 1) {
      try {
        await this.run();
        return;
      } catch (error) {
        this.logger.warn(
          `agent-events consumer not started yet (attempt ${attempt + 1}): ${String(error)}`,
        );
        await this.consumer?.disconnect().catch(() => undefined);
        await new Promise((resolve) =>
          setTimeout(
            resolve,
            backoffDelayMs(attempt, { delayMsBase: 500, delayMsMax: 30_000 }, Math.random),
          ),
        );
      }
    }
  }

  private async run(): Promise<void> {
    // The topics are ours to create (idempotent): a fresh broker must not stall the consumer.
    await this.admin!.connect();
    await this.admin!.createTopics({
      topics: [
        { topic: AGENT_EVENTS_TOPIC, numPartitions: 3 },
        { topic: DLQ_TOPIC, numPartitions: 1 },
      ],
    });
    await this.producer!.connect();
    await this.consumer!.connect();
    await this.consumer!.subscribe({ topic: AGENT_EVENTS_TOPIC, fromBeginning: true });
    await this.consumer!.run({
      autoCommit: false,
      eachMessage: async ({ topic, partition, message }) => {
        await this.handle(topic, partition, message);
        await this.consumer!.commitOffsets([
          { topic, partition, offset: (BigInt(message.offset) + 1n).toString() },
        ]);
      },
    });
    this.logger.log('consuming agent-events');
  }

  private async handle(topic: string, partition: number, message: KafkaMessage): Promise<void> {
    const parsed = parseAgentEvent(message.value);
    if (!parsed.ok) return this.deadLetter(topic, partition, message, parsed.reason);
    try {
      await this.applyWithRetries(parsed.effect, `kafka:${topic}/${partition}@${message.offset}`);
    } catch (error) {
      // A final refusal is dead-lettered with the status, type and detail a REST client would
      // get for it; anything else is redelivered.
      if (!isFinalRefusal(error)) throw error;
      const reason = `refused: ${problemFor(error.outcome).describe()}`;
      await this.deadLetter(topic, partition, message, reason);
    }
  }

  private async deadLetter(
    topic: string,
    partition: number,
    message: KafkaMessage,
    reason: string,
  ): Promise<void> {
    await this.dlqBreaker.fire({
      topic: DLQ_TOPIC,
      messages: [
        {
          key: message.key,
          value: JSON.stringify({
            reason,
            topic,
            partition,
            offset: message.offset,
            record: message.value?.toString('utf8').slice(0, 64 * 1024) ?? null,
          }),
        },
      ],
    });
    this.counters.deadLettered += 1;
    this.logger.warn(`agent-events ${partition}@${message.offset} dead-lettered: ${reason}`);
  }

  /** Retries only what is safe to retry (same requestId), with full-jitter back-off, bounded. */
  private async applyWithRetries(effect: AgentEffect, traceId: string): Promise<void> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        await this.apply(effect, traceId);
        return;
      } catch (error) {
        const transient = error instanceof ClusterRefused && isTransient(error.outcome);
        if (!transient || attempt + 1 >= EFFECT_ATTEMPTS_MAX) throw error; // kafkajs redelivers
        this.counters.retries += 1;
        await new Promise((resolve) =>
          setTimeout(
            resolve,
            backoffDelayMs(attempt, { delayMsBase: 100, delayMsMax: 2_000 }, Math.random),
          ),
        );
      }
    }
  }

  private async apply(effect: AgentEffect, traceId: string): Promise<void> {
    if (effect.kind === 'strong') {
      const applied = await this.log.propose(effect.command, traceId);
      if (applied.replayed) this.counters.replayed += 1;
      else this.counters.applied += 1;
      return;
    }
    if (this.eventualSeen.has(effect.requestId)) {
      this.counters.replayed += 1;
      return;
    }
    const { status } = await this.crdt.call(effect.method, effect.path, effect.body);
    if (status !== 202) throw new Error(`crdt refused ${effect.path}: ${status}`);
    this.eventualSeen.add(effect.requestId);
    if (this.eventualSeen.size > EVENTUAL_IDS_REMEMBERED)
      this.eventualSeen.delete(this.eventualSeen.values().next().value as string);
    this.counters.applied += 1;
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
    return this.config.get('PARLEY_KAFKA_GROUP_ID', { infer: true });
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
