/**
 * End-to-end REST benchmark (npm run bench:decision-api): three command-log replicas (fsync
 * on), one crdt replica and decision-api, each its own process on loopback. Reservations
 * (strong: through the Raft leader) and counter increments (eventual: 202 from the crdt
 * replica) at 1, 16 and 64 concurrent clients; bounded in count and time. Prints figures.
 */
import { closedLoop, formatLoad } from './load';
import { ParleyClient } from '@parley/client';
import { BENCH_AGENT_KEY, ParleyStack } from './suite/parley-stack';

const LEVELS = [1, 16, 64];
const COUNT = Number(process.env.BENCH_REQUESTS ?? 3_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);

async function main(): Promise<void> {
  const stack = await ParleyStack.start();
  // Through @parley/client, as an agent calls decision-api.
  const client = new ParleyClient({ endpoints: stack.apiUrl, apiKey: BENCH_AGENT_KEY });
  try {
    const succeeded = (work: Promise<unknown>) =>
      work.then(
        () => true,
        () => false,
      );
    const run = Date.now();
    await client.inventory.restock('bench', 1_000_000, { requestId: `restock-${run}` });
    console.log(
      `decision-api bench: REST over loopback through @parley/client, 3 command-log replicas with fsync, ≤${COUNT} requests or ${SECONDS}s per level`,
    );
    for (const clients of LEVELS) {
      const strong = await closedLoop(clients, COUNT, SECONDS, (n) =>
        succeeded(
          client.inventory.reserve(
            'bench',
            { orderId: `o-${run}-${clients}-${n}`, quantity: 1 },
            { requestId: `r-${run}-${clients}-${n}` },
          ),
        ),
      );
      console.log(formatLoad('reservations (strong)', clients, strong));
      const eventual = await closedLoop(clients, COUNT, SECONDS, () =>
        succeeded(client.counters.increment('bench', 1)),
      );
      console.log(formatLoad('increments (eventual)', clients, eventual));
    }
  } finally {
    client.close();
    await stack.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
