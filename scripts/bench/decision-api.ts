/**
 * End-to-end REST benchmark (npm run bench:decision-api): three command-log replicas (fsync
 * on), one crdt replica and decision-api, each its own process on loopback. Reservations
 * (strong: through the Raft leader) and counter increments (eventual: 202 from the crdt
 * replica) at 1, 16 and 64 concurrent clients; bounded in count and time. Prints figures.
 */
import { AppProcess, waitForHttp } from '../../test/support/app-process';
import { CLUSTER_SECRET, CommandLogCluster } from '../../test/support/command-log-cluster';
import { CrdtCluster } from '../../test/support/crdt-cluster';
import { freePort } from '../../test/support/ports';
import { closedLoop, formatLoad } from './load';

const LEVELS = [1, 16, 64];
const COUNT = Number(process.env.BENCH_REQUESTS ?? 3_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const KEY = 'agent-key-0123456789abcdef';

async function main(): Promise<void> {
  const cluster = await CommandLogCluster.create(3, { PARLEY_LOG_LEVEL: 'error' });
  const crdt = await CrdtCluster.create(1, () => ({ PARLEY_LOG_LEVEL: 'error' }));
  const port = await freePort();
  const api = AppProcess.start('decision-api', {
    PARLEY_HTTP_PORT: String(port),
    PARLEY_API_KEYS: `agent:${KEY}`,
    PARLEY_RPC_SECRET: CLUSTER_SECRET,
    PARLEY_COMMAND_LOG_NODES: cluster.replicas.map((r) => `127.0.0.1:${r.rpcPort}`).join(','),
    PARLEY_CRDT_NODES: `127.0.0.1:${crdt.replica('c1').httpPort}`,
    PARLEY_RATE_LIMIT_PER_SECOND: '1000000',
    PARLEY_LOG_LEVEL: 'error',
  });
  try {
    await cluster.waitForLeader();
    await waitForHttp(`http://127.0.0.1:${port}/health/live`);
    const post = async (path: string, body: unknown, expected: number) => {
      const response = await fetch(`http://127.0.0.1:${port}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      await response.arrayBuffer();
      return response.status === expected;
    };
    const run = Date.now();
    await post(
      '/v1/inventory/bench/restock',
      { requestId: `restock-${run}`, quantity: 1_000_000 },
      200,
    );
    console.log(
      `decision-api bench: REST over loopback, 3 command-log replicas with fsync, ≤${COUNT} requests or ${SECONDS}s per level`,
    );
    for (const clients of LEVELS) {
      const strong = await closedLoop(clients, COUNT, SECONDS, (n) =>
        post(
          '/v1/inventory/bench/reservations',
          {
            requestId: `r-${run}-${clients}-${n}`,
            orderId: `o-${run}-${clients}-${n}`,
            quantity: 1,
          },
          200,
        ),
      );
      console.log(formatLoad('reservations (strong)', clients, strong));
      const eventual = await closedLoop(clients, COUNT, SECONDS, () =>
        post('/v1/counters/bench/increment', { delta: 1 }, 202),
      );
      console.log(formatLoad('increments (eventual)', clients, eventual));
    }
  } finally {
    await api.stop();
    await crdt.stop();
    await cluster.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
