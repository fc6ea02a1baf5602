/**
 * Kafka-driven agents benchmark (npm run bench:kafka): a broker of the bench's own (KRaft, from
 * the jars scripts/infra/kafka.sh fetched), three command-log replicas (fsync on, mirror on),
 * one crdt replica and decision-api consuming `agent-events`, each its own process on loopback.
 *
 * Prints, never asserts:
 * - events/s from produce to outcome for reservations and votes (strong: each outcome read back
 *   from `decisions`) and counter increments (eventual: the counter read back), at 20,000 events
 *   (and 200,000 with BENCH_KAFKA_LARGE=1);
 * - produce → decision p50/p99 at a steady 1,000 and 2,000 reservations/s (BENCH_KAFKA_RATES),
 *   every part after a warm-up of the broker at 2,000/s (BENCH_KAFKA_WARMUP_SECONDS, printed,
 *   not counted);
 * - REST strong PUT throughput (64 clients) with the brokers on (mirror publishing) and off,
 *   in the same run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Consumer, Kafka, Producer, logLevel } from 'kafkajs';
import { KafkaProcess } from '../../test/support/kafka-process';
import { freePort } from '../../test/support/ports';
import { ParleyStack } from './suite/parley-stack';
import { httpLoad } from './suite/http-load';
import { cpuDuring, totalOf } from './suite/process-cpu';

const SIZES = process.env.BENCH_KAFKA_LARGE === '1' ? [20_000, 200_000] : [20_000];
const RATES = (process.env.BENCH_KAFKA_RATES ?? '1000,2000').split(',').map(Number);
const STEADY_SECONDS = Number(process.env.BENCH_KAFKA_STEADY_SECONDS ?? 10);
/**
 * The bench broker's JVM options, space-separated; empty for the JVM's defaults. By default its
 * JIT stops at the client compiler: with the optimizing compiler as well, the compiler threads
 * took ~45 % of a fresh broker's CPU for the first minute on two shared cores (a warm-up
 * a long-running broker has behind it), and they take it from the system being measured.
 */
const BROKER_JVM_OPTIONS = (process.env.BENCH_KAFKA_BROKER_JVM ?? '-XX:TieredStopAtLevel=1')
  .split(' ')
  .filter(Boolean);
/** Reservations at 2,000/s before the steady and REST parts, not counted (0: none). */
const WARMUP_SECONDS = Number(process.env.BENCH_KAFKA_WARMUP_SECONDS ?? 20);
/** No workload waits longer than this for its outcomes (then it prints what it got). */
const OUTCOME_DEADLINE_MS = Number(process.env.BENCH_KAFKA_DEADLINE_MS ?? 180_000);
const REST_SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const KEYS = 48;
/** Which parts run (all by default): `events`, `steady`, `rest`. */
const PARTS = new Set((process.env.BENCH_KAFKA_PARTS ?? 'events,steady,rest').split(','));

type Record = { type: string; requestId: string } & { [field: string]: unknown };

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Reads `decisions` from its end and notes when each requestId's outcome arrives. */
class DecisionsWatch {
  readonly seen = new Map<string, number>();
  private constructor(private readonly consumer: Consumer) {}

  static async start(client: Kafka): Promise<DecisionsWatch> {
    const consumer = client.consumer({
      groupId: `bench-decisions-${Date.now()}`,
      maxWaitTimeInMs: 20,
      readUncommitted: false,
    });
    await consumer.connect();
    await consumer.subscribe({ topic: 'decisions', fromBeginning: false });
    const watch = new DecisionsWatch(consumer);
    let joined = false;
    consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
    await consumer.run({
      eachBatch: async ({ batch }) => {
        const now = Date.now();
        for (const message of batch.messages) {
          const requestId = (JSON.parse(message.value!.toString()) as { requestId?: string })
            .requestId;
          if (requestId && !watch.seen.has(requestId)) watch.seen.set(requestId, now);
        }
      },
    });
    while (!joined) await new Promise((resolve) => setTimeout(resolve, 50));
    return watch;
  }

  stop(): Promise<void> {
    return this.consumer.disconnect();
  }
}

async function until(
  probe: () => Promise<boolean> | boolean,
  deadlineMs: number,
): Promise<boolean> {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    if (await probe()) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return false;
}

async function produceAll(producer: Producer, records: Record[], key: (r: Record) => string) {
  const sentAt = new Map<string, number>();
  for (let i = 0; i < records.length; i += 2_000) {
    const slice = records.slice(i, i + 2_000);
    const now = Date.now();
    for (const r of slice) sentAt.set(r.requestId, now);
    await producer.send({
      topic: 'agent-events',
      messages: slice.map((r) => ({ key: key(r), value: JSON.stringify(r) })),
    });
  }
  return sentAt;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-kafka-'));
  const kafka = new KafkaProcess(await freePort(), await freePort(), dir, BROKER_JVM_OPTIONS);
  console.log(`broker JVM options: ${BROKER_JVM_OPTIONS.join(' ') || "the JVM's defaults"}`);
  await kafka.start();
  try {
    await measure(kafka);
  } finally {
    // Also after a failure: a broker left running would keep this process alive.
    await kafka.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function measure(kafka: KafkaProcess): Promise<void> {
  const client = new Kafka({ brokers: [kafka.brokers], logLevel: logLevel.NOTHING });
  const admin = client.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic: 'agent-events', numPartitions: 3 },
      { topic: 'agent-events.dlq', numPartitions: 1 },
      { topic: 'decisions', numPartitions: 1 },
      {
        topic: 'raft-log',
        numPartitions: 1,
        configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
      },
    ],
  });
  await admin.disconnect();
  const producer = client.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const run = Date.now().toString(36);
  console.log(
    'kafka bench: own broker, 3 command-log replicas (fsync, mirror on), 1 crdt replica, ' +
      '1 decision-api consuming agent-events (3 partitions); a 2-core machine shared with other work',
  );

  // The replicas' mirror settings: the brokers, and PARLEY_KAFKA_MIRROR_LINGER_MS when the
  // bench is given one (to compare latency against CPU at several).
  const linger = process.env.PARLEY_KAFKA_MIRROR_LINGER_MS;
  const withKafka = {
    PARLEY_KAFKA_BROKERS: kafka.brokers,
    ...(linger ? { PARLEY_KAFKA_MIRROR_LINGER_MS: linger } : {}),
  };
  if (linger) console.log(`mirror linger ${linger} ms`);
  let stack = await ParleyStack.start(3, {
    commandLog: { ...withKafka, PARLEY_CLUSTER_ID: `bench-${run}` },
    api: { PARLEY_KAFKA_BROKERS: kafka.brokers, PARLEY_KAFKA_GROUP_ID: `bench-${run}` },
  });
  const watch = await DecisionsWatch.start(client);
  const api = async (path: string) =>
    (await (await fetch(`${stack.apiUrl}${path}`, { headers: stack.headers() })).json()) as {
      [field: string]: unknown;
    };
  try {
    // Stock and proposals first, so the workloads below are reservations and votes only.
    const setup: Record[] = [];
    for (let k = 0; k < KEYS; k += 1) {
      setup.push({
        type: 'restock',
        requestId: `${run}-restock-${k}`,
        sku: `sku-${k}`,
        quantity: 1_000_000,
      });
      setup.push({
        type: 'propose',
        requestId: `${run}-propose-${k}`,
        proposalId: `${run}-p-${k}`,
        options: ['yes', 'no'],
        policy: { kind: 'majority', quorum: 10_000, deadlineMs: 3_600_000, onDeadline: 'reject' },
      });
    }
    await produceAll(producer, setup, (r) => String(r.sku ?? r.proposalId));
    await until(() => setup.every((r) => watch.seen.has(r.requestId)), OUTCOME_DEADLINE_MS);

    // Latency at a steady rate: reservations produced every 10 ms in slices.
    const steady = async (step: string, rate: number, seconds: number) => {
      const total = rate * seconds;
      const records: Record[] = Array.from({ length: total }, (_, i) => ({
        type: 'reserve',
        // Per step, not per rate: a rate given twice must not replay the first one's requests.
        requestId: `${run}-steady-${step}-${i}`,
        sku: `sku-${i % KEYS}`,
        orderId: `s-${step}-${i}`,
        quantity: 1,
      }));
      const sentAt = new Map<string, number>();
      // Where the time goes: when the state holds every reservation (read through REST), against
      // when `decisions` has every outcome.
      const reservedOfFirstSku = async () =>
        Number(((await api('/v1/inventory/sku-0')).reserved as number | undefined) ?? 0);
      const firstSkuTarget = (await reservedOfFirstSku()) + Math.ceil(total / KEYS);
      let stateDoneAt = 0;
      const stateWatch = until(async () => {
        if ((await reservedOfFirstSku()) < firstSkuTarget) return false;
        stateDoneAt = Date.now();
        return true;
      }, OUTCOME_DEADLINE_MS);
      const started = Date.now();
      let next = 0;
      while (next < total) {
        const due = Math.min(total, Math.floor(((Date.now() - started) / 1000) * rate));
        if (due > next) {
          const slice = records.slice(next, due);
          next = due;
          const now = Date.now();
          for (const r of slice) sentAt.set(r.requestId, now);
          void producer.send({
            topic: 'agent-events',
            messages: slice.map((r) => ({ key: String(r.sku), value: JSON.stringify(r) })),
          });
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const producedAt = Date.now();
      await until(() => records.every((r) => watch.seen.has(r.requestId)), OUTCOME_DEADLINE_MS);
      const decisionsDoneAt = Date.now();
      await stateWatch;
      const latencies = records
        .filter((r) => watch.seen.has(r.requestId))
        .map((r) => watch.seen.get(r.requestId)! - sentAt.get(r.requestId)!)
        .sort((a, b) => a - b);
      console.log(
        `${step === 'warm-up' ? 'warm-up, ' : ''}steady ${rate}/s for ${seconds} s: produce→decision min ${latencies[0]} ms, p50 ${percentile(latencies, 50)} ms, ` +
          `p99 ${percentile(latencies, 99)} ms, max ${latencies[latencies.length - 1]} ms ` +
          `(${latencies.length}/${total} outcomes; after the last produce, the state held them ` +
          `in ${stateDoneAt - producedAt} ms, decisions in ${decisionsDoneAt - producedAt} ms)`,
      );
    };
    // A broker started seconds ago runs its request paths interpreted and compiles them as
    // they get hot: over its first ~20 s its transactions cost it several times what they cost
    // a broker that has been running (the compiler threads share the two cores), which is not
    // what a deployment's long-running broker costs. Every measured part comes after this.
    if (WARMUP_SECONDS > 0) await steady('warm-up', 2_000, WARMUP_SECONDS);

    for (const size of PARTS.has('events') ? SIZES : []) {
      // Reservations and votes: strong, each outcome read back from `decisions`.
      for (const kind of ['reservations', 'votes'] as const) {
        const records: Record[] = Array.from({ length: size }, (_, i) =>
          kind === 'reservations'
            ? {
                type: 'reserve',
                requestId: `${run}-${kind}-${size}-${i}`,
                sku: `sku-${i % KEYS}`,
                orderId: `o-${size}-${i}`,
                quantity: 1,
              }
            : {
                type: 'vote',
                requestId: `${run}-${kind}-${size}-${i}`,
                proposalId: `${run}-p-${i % KEYS}`,
                agentId: `agent-${size}-${i}`,
                option: i % 2 === 0 ? 'yes' : 'no',
              },
        );
        const started = Date.now();
        const sentAt = await produceAll(producer, records, (r) => String(r.sku ?? r.proposalId));
        const produced = Date.now() - started;
        const done = await until(
          () => records.every((r) => watch.seen.has(r.requestId)),
          OUTCOME_DEADLINE_MS,
        );
        const outcomes = records.filter((r) => watch.seen.has(r.requestId));
        const last = outcomes.reduce((at, r) => Math.max(at, watch.seen.get(r.requestId)!), 0);
        const latencies = outcomes
          .map((r) => watch.seen.get(r.requestId)! - sentAt.get(r.requestId)!)
          .sort((a, b) => a - b);
        console.log(
          `${kind.padEnd(13)} ${String(size).padStart(7)} events: ` +
            `${Math.round(outcomes.length / ((last - started) / 1000))} events/s produce→decision ` +
            `(${outcomes.length}/${size} outcomes${done ? '' : ', deadline passed'}; produced in ${produced} ms; ` +
            `latency p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms)`,
        );
      }
      // Increments: eventual, the counter read back through decision-api.
      const name = `${run}-hits-${size}`;
      const increments: Record[] = Array.from({ length: size }, (_, i) => ({
        type: 'increment',
        requestId: `${run}-inc-${size}-${i}`,
        name: `${name}-${i % 3}`,
        delta: 1,
      }));
      const started = Date.now();
      await produceAll(producer, increments, (r) => String(r.name));
      let total = 0;
      const done = await until(async () => {
        const values = await Promise.all(
          [0, 1, 2].map(async (k) => Number((await api(`/v1/counters/${name}-${k}`)).value ?? 0)),
        );
        total = values.reduce((a, b) => a + b, 0);
        return total >= size;
      }, OUTCOME_DEADLINE_MS);
      const elapsedS = (Date.now() - started) / 1000;
      console.log(
        `${'increments'.padEnd(13)} ${String(size).padStart(7)} events: ` +
          `${Math.round(total / elapsedS)} events/s produce→counter (${total}/${size}${done ? '' : ', deadline passed'})`,
      );
    }

    for (const [step, rate] of (PARTS.has('steady') ? RATES : []).entries())
      await steady(String(step), rate, STEADY_SECONDS);
  } finally {
    await watch.stop();
    await stack.stop();
  }

  // REST strong PUTs with the mirror publishing, then without brokers at all, same run.
  const restPut = async (label: string) => {
    const leader = await stack.commandLog.waitForLeader();
    const termBefore = (await stack.commandLog.status(leader))?.term ?? NaN;
    const pids: { [name: string]: number } = { ...stack.pids(), broker: kafka.pid! };
    const { result, cpuSeconds } = await cpuDuring(pids, () =>
      httpLoad({
        url: stack.apiUrl,
        clients: 64,
        requests: 1_000_000,
        seconds: REST_SECONDS,
        warmup: 500,
        request: (n) => ({
          method: 'PUT',
          path: `/v1/kv/bench-${n % 1_000}`,
          body: JSON.stringify({ requestId: `${label}-${run}-${n}`, value: `v${n}` }),
          headers: stack.headers(),
        }),
      }),
    );
    // Server CPU per request (utime + stime from /proc), the broker's included: on two shared
    // cores every microsecond the mirror costs is one the REST path does not get.
    const perRequest = (seconds: number) =>
      `${Math.round((seconds * 1e6) / (result.ok + result.failed))}`;
    // A leader the load starved of CPU loses its followers: elections show as a new term.
    const termAfter = (await stack.commandLog.status(leader))?.term ?? NaN;
    const followers = Object.entries(cpuSeconds)
      .filter(([name]) => name.startsWith('command-log-') && name !== `command-log-${leader}`)
      .reduce((sum, [, seconds]) => sum + seconds, 0);
    console.log(
      `REST PUT /v1/kv, 64 clients, ${label.padEnd(12)}: ${Math.round(result.perSecond)}/s ` +
        `(p50 ${result.p50Ms.toFixed(1)} ms, p99 ${result.p99Ms.toFixed(1)} ms, ${result.failed} failed); ` +
        `server CPU per request ${perRequest(totalOf(cpuSeconds))} us: leader ${perRequest(cpuSeconds[`command-log-${leader}`])}, ` +
        `followers ${perRequest(followers)}, decision-api ${perRequest(cpuSeconds['decision-api'])}, ` +
        `broker ${perRequest(cpuSeconds.broker)}; ${termAfter - termBefore} elections`,
    );
    return result.perSecond;
  };
  if (PARTS.has('rest')) {
    const raftLogEnd = async () => {
      const topics = client.admin();
      await topics.connect();
      const [partition] = await topics.fetchTopicOffsets('raft-log');
      await topics.disconnect();
      return Number(partition.high);
    };
    // On and off twice, alternating, so a change in the machine's other load shows.
    const rounds: { on: number; off: number; mirrored: number }[] = [];
    for (let round = 0; round < Number(process.env.BENCH_KAFKA_REST_ROUNDS ?? 2); round += 1) {
      const before = await raftLogEnd();
      stack = await ParleyStack.start(3, {
        commandLog: { ...withKafka, PARLEY_CLUSTER_ID: `rest-${run}-${round}` },
        // The group that consumed the events above: a new one would start from the beginning
        // of agent-events and replay every event into this round's cluster during its load.
        api: { PARLEY_KAFKA_BROKERS: kafka.brokers, PARLEY_KAFKA_GROUP_ID: `bench-${run}` },
      });
      // The load starts once the mirror publishes: a new leader first finds where its cluster
      // left off in raft-log (a tail scan through the other rounds' records).
      await fetch(`${stack.apiUrl}/v1/kv/bench-mirror-ready`, {
        method: 'PUT',
        headers: { ...stack.headers(), 'content-type': 'application/json' },
        body: JSON.stringify({ requestId: `ready-${run}-${round}`, value: 'ready' }),
      });
      const mirrorStarted = Date.now();
      await until(async () => (await raftLogEnd()) > before, OUTCOME_DEADLINE_MS);
      console.log(
        `REST round ${round + 1}: the mirror published after ${Date.now() - mirrorStarted} ms`,
      );
      const on = await restPut('brokers on');
      // What the mirror published by a second after the load shows it was on (and keeping up).
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const mirrored = (await raftLogEnd()) - before;
      await stack.stop();
      stack = await ParleyStack.start(3);
      const off = await restPut('brokers off');
      await stack.stop();
      rounds.push({ on, off, mirrored });
      console.log(
        `REST round ${round + 1}: brokers on ${((on / off) * 100).toFixed(0)}% of off ` +
          `(the mirror published ${mirrored} raft-log records by 1 s after the load)`,
      );
    }
    const sum = (pick: (r: (typeof rounds)[number]) => number) =>
      rounds.reduce((total, r) => total + pick(r), 0);
    console.log(
      `REST overall: brokers on ${((sum((r) => r.on) / sum((r) => r.off)) * 100).toFixed(0)}% of off`,
    );
  }

  await producer.disconnect();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
