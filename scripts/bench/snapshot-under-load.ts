/**
 * Strong writes while the replicas take snapshots (npm run bench:snapshot-load): a Parley stack
 * whose replicas snapshot every `--every` entries, loaded with PUTs (each with a new requestId,
 * so the session table fills towards its 100,000 bound and snapshots grow to ~27 MB) for long
 * enough to cross several snapshots. Prints throughput, the latency tail and max, and each
 * replica's term and first log index before and after: a term that moved means an election
 * happened under load, a first index that moved means snapshots were taken and the log
 * compacted. Prints figures; asserts nothing.
 */
import { parseArgs } from 'node:util';
import { httpLoad } from './suite/http-load';
import { ParleyStack } from './suite/parley-stack';

const { values } = parseArgs({
  options: {
    every: { type: 'string', default: '25000' },
    requests: { type: 'string', default: '110000' },
    clients: { type: 'string', default: '64' },
  },
});

async function main(): Promise<void> {
  const stack = await ParleyStack.start(3, {
    commandLog: { PARLEY_SNAPSHOT_EVERY_ENTRIES: values.every! },
  });
  const ids = stack.commandLog.replicas.map((r) => r.id);
  const statuses = () => Promise.all(ids.map((id) => stack.commandLog.status(id)));
  try {
    const before = await statuses();
    const run = Date.now();
    const result = await httpLoad({
      url: stack.apiUrl,
      clients: Number(values.clients),
      requests: Number(values.requests),
      seconds: 300,
      warmup: 256,
      request: (n) => ({
        method: 'PUT',
        path: `/v1/kv/snap-${(n + 1000) % 1000}`,
        headers: stack.headers(),
        body: JSON.stringify({ requestId: `snap-${run}-${n}`, value: 'x'.repeat(100) }),
      }),
    });
    const after = await statuses();
    console.log(
      `snapshot every ${values.every} entries, ${values.clients} clients: ok=${result.ok} ` +
        `failed=${result.failed} ${Math.round(result.perSecond)}/s p50=${result.p50Ms.toFixed(2)} ` +
        `p99=${result.p99Ms.toFixed(2)} p99.9=${result.p999Ms.toFixed(2)} max=${result.maxMs.toFixed(2)} ms`,
    );
    ids.forEach((id, i) =>
      console.log(
        `  ${id}: term ${before[i]?.term} -> ${after[i]?.term}, first log index ` +
          `${before[i]?.firstIndex} -> ${after[i]?.firstIndex}, applied ${after[i]?.appliedIndex}`,
      ),
    );
  } finally {
    await stack.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
