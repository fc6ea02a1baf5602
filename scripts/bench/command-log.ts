/**
 * Real-cluster command-log benchmark (npm run bench:command-log): three command-log processes on
 * loopback with fsync on, proposers sending `kv.put` through the leader's microservice API and
 * waiting for each result (commit + apply). For 1, 16 and 64 concurrent proposers it prints
 * committed writes per second, p50/p99 commit latency and the leader's WAL fsyncs per committed
 * entry (group commit: many entries per fsync under concurrency). Each run is bounded in count
 * and in time. It prints figures; it asserts nothing.
 */
import { CommandLogCluster } from '../../test/support/command-log-cluster';
import { closedLoop, formatLoad } from './load';

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
  const before = await leaderCounters(cluster, leader);
  const result = await closedLoop(
    concurrency,
    WRITES_PER_LEVEL,
    SECONDS_PER_LEVEL,
    async (n, worker) => {
      const answer = await cluster.rpc<ProposeAnswer>(leader, 'command-log.propose', {
        command: {
          type: 'kv.put',
          requestId: `${runId}-${concurrency}-${n}`,
          key: `bench/${worker}/${n % 256}`,
          value: VALUE,
        },
      });
      return answer.status === 'applied';
    },
  );
  const after = await leaderCounters(cluster, leader);
  const committed = after.commitIndex - before.commitIndex;
  const syncs = after.walSyncs - before.walSyncs;
  console.log(
    `${formatLoad('writes', concurrency, result)}  leader fsyncs/committed entry=` +
      `${committed > 0 ? (syncs / committed).toFixed(3) : 'n/a'} (${syncs} fsyncs, ${committed} entries incl. clock)`,
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
