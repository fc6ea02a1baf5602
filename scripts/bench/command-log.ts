/**
 * Real-cluster command-log benchmark (npm run bench:command-log): three command-log processes on
 * loopback with fsync on, proposers sending `kv.put` through the leader's microservice API and
 * waiting for each result (commit + apply). For 1, 16 and 64 concurrent proposers it prints
 * committed writes per second, p50/p99 commit latency and the leader's WAL fsyncs per committed
 * entry (group commit: many entries per fsync under concurrency). Each run is bounded in count
 * and in time. It prints figures; it asserts nothing.
 */
import { CommandLogCluster } from '../../test/support/command-log-cluster';

const CONCURRENCY_LEVELS = (process.env.BENCH_CONCURRENCY ?? '1,16,64').split(',').map(Number);
const WRITES_PER_LEVEL = Number(process.env.BENCH_WRITES ?? 4_000);
const SECONDS_PER_LEVEL = Number(process.env.BENCH_SECONDS ?? 20);
const VALUE = 'x'.repeat(100);

interface ProposeAnswer {
  status: string;
  index?: number;
}

interface LeaderCounters {
  walSyncs: number;
  commitIndex: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function leaderCounters(cluster: CommandLogCluster, leader: string): Promise<LeaderCounters> {
  const status = (await cluster.status(leader)) as unknown as LeaderCounters | undefined;
  if (!status) throw new Error(`leader ${leader} did not answer /v1/status`);
  return { walSyncs: status.walSyncs, commitIndex: status.commitIndex };
}

async function runLevel(
  cluster: CommandLogCluster,
  leader: string,
  concurrency: number,
  runId: string,
): Promise<void> {
  const latenciesMs: number[] = [];
  let issued = 0;
  let failed = 0;
  const deadline = Date.now() + SECONDS_PER_LEVEL * 1000;
  const before = await leaderCounters(cluster, leader);
  const started = process.hrtime.bigint();

  async function proposer(worker: number): Promise<void> {
    while (issued < WRITES_PER_LEVEL && Date.now() < deadline) {
      const n = issued;
      issued += 1;
      const sentAt = process.hrtime.bigint();
      const answer = await cluster.rpc<ProposeAnswer>(leader, 'command-log.propose', {
        command: {
          type: 'kv.put',
          requestId: `${runId}-${concurrency}-${n}`,
          key: `bench/${worker}/${n % 256}`,
          value: VALUE,
        },
      });
      if (answer.status !== 'applied') {
        failed += 1;
        continue;
      }
      latenciesMs.push(Number(process.hrtime.bigint() - sentAt) / 1e6);
    }
  }

  await Promise.all(Array.from({ length: concurrency }, (_, worker) => proposer(worker)));
  const elapsedS = Number(process.hrtime.bigint() - started) / 1e9;
  const after = await leaderCounters(cluster, leader);
  latenciesMs.sort((a, b) => a - b);
  const committed = after.commitIndex - before.commitIndex;
  const syncs = after.walSyncs - before.walSyncs;
  console.log(
    [
      `proposers=${String(concurrency).padStart(2)}`,
      `writes=${latenciesMs.length}`,
      `failed=${failed}`,
      `writes/s=${(latenciesMs.length / elapsedS).toFixed(0)}`,
      `p50=${percentile(latenciesMs, 50).toFixed(2)}ms`,
      `p99=${percentile(latenciesMs, 99).toFixed(2)}ms`,
      `leader fsyncs/committed entry=${committed > 0 ? (syncs / committed).toFixed(3) : 'n/a'}`,
      `(${syncs} fsyncs, ${committed} entries incl. clock)`,
    ].join('  '),
  );
}

async function main(): Promise<void> {
  const cluster = await CommandLogCluster.create(3, { PARLEY_LOG_LEVEL: 'error' });
  try {
    const leader = await cluster.waitForLeader();
    console.log(
      `command-log bench: 3 replicas on loopback, fsync on, 100-byte kv.put, ` +
        `≤${WRITES_PER_LEVEL} writes or ${SECONDS_PER_LEVEL}s per level, leader ${leader}`,
    );
    const runId = `bench-${Date.now()}`;
    // Warm-up: connections, JIT, WAL segment creation.
    for (let i = 0; i < 50; i += 1)
      await cluster.rpc(leader, 'command-log.propose', {
        command: { type: 'kv.put', requestId: `${runId}-warm-${i}`, key: 'warm', value: VALUE },
      });
    for (const concurrency of CONCURRENCY_LEVELS)
      await runLevel(cluster, leader, concurrency, runId);
    const rss = await Promise.all(
      cluster.replicas.map(async (r) => {
        const response = await fetch(`http://127.0.0.1:${r.httpPort}/v1/status`);
        const status = (await response.json()) as { memoryRssBytes?: number };
        return status.memoryRssBytes;
      }),
    );
    if (rss.every((v) => typeof v === 'number'))
      console.log(
        `replica RSS MiB: ${rss.map((v) => ((v as number) / 2 ** 20).toFixed(0)).join(', ')}`,
      );
  } finally {
    await cluster.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
