/**
 * End-to-end REST benchmark (npm run bench:decision-api): three command-log replicas (fsync
 * on), one crdt replica and decision-api, each its own process on loopback. Reservations
 * (strong: through the Raft leader) and counter increments (eventual: 202 from the crdt
 * replica) at 1, 16 and 64 concurrent clients; bounded in count and time. Prints figures.
 */
import { closedLoop, formatLoad } from './load';
import { ParleyStack } from './suite/parley-stack';

const LEVELS = [1, 16, 64];
const COUNT = Number(process.env.BENCH_REQUESTS ?? 3_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);

async function main(): Promise<void> {
  const stack = await ParleyStack.start();
  try {
    const post = async (path: string, body: unknown, expected: number) => {
      const response = await fetch(`${stack.apiUrl}${path}`, {
        method: 'POST',
        headers: { ...stack.headers(), 'content-type': 'application/json' },
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
    await stack.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
