/**
 * Chaos soak (npm run soak:chaos -- --seconds 600 [--seed N] [--nodes 3,5] [--round-seconds 60]):
 * back-to-back chaos runs on real processes (test/support/chaos/chaos-run.ts), each a fresh
 * cluster with its own seed, alternating cluster sizes, until the time is up. Reports operations
 * checked, faults injected and violations; exits 1 on any violation, naming its seed and
 * history file (replay with --seed and the same --nodes).
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runChaos } from '../../test/support/chaos/chaos-run';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '600' },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    nodes: { type: 'string', default: '3,5' },
    'round-seconds': { type: 'string', default: '60' },
    clients: { type: 'string', default: '8' },
  },
});

async function main(): Promise<void> {
  const until = Date.now() + Number(values.seconds) * 1_000;
  const sizes = values.nodes!.split(',').map(Number);
  const roundSeconds = Number(values['round-seconds']);
  const started = Date.now();
  let seed = Number(values.seed);
  let rounds = 0;
  let operations = 0;
  let kvChecked = 0;
  let indeterminate = 0;
  const faults = new Map<string, number>();
  const failures: string[] = [];
  // Bounded in rounds as well as time.
  while (Date.now() + roundSeconds * 1_000 <= until && rounds < 10_000) {
    const nodes = sizes[rounds % sizes.length];
    const report = await runChaos({
      nodes,
      seconds: roundSeconds,
      seed,
      clients: Number(values.clients),
      resultsDir: join(__dirname, '..', '..', '.test-results', 'chaos-soak'),
    });
    rounds += 1;
    operations += report.operations;
    kvChecked += report.kvOperationsChecked;
    indeterminate += report.indeterminate;
    for (const fault of report.faults) faults.set(fault.kind, (faults.get(fault.kind) ?? 0) + 1);
    console.log(
      `round ${rounds}: ${nodes} replicas, seed ${seed}, ${report.operations} ops, ` +
        `${report.faults.length} faults, recovered in ${report.recoveryMs} ms, ` +
        `${report.snapshotsInstalled} snapshots installed, ` +
        `${report.violations.length} violations`,
    );
    if (report.violations.length > 0)
      failures.push(
        `seed ${seed} (${nodes} replicas), history ${report.historyFile}:\n${report.violations.join('\n')}`,
      );
    seed += 1;
  }
  const wall = (Date.now() - started) / 1_000;
  console.log(
    `\nchaos soak: ${rounds} rounds in ${wall.toFixed(0)} s; ${operations} operations ` +
      `(${kvChecked} KV operations checked for linearizability, ${indeterminate} indeterminate); ` +
      `${[...faults.values()].reduce((a, b) => a + b, 0)} faults injected ` +
      `(${[...faults].map(([k, n]) => `${k} ${n}`).join(', ')}); ${failures.length} violations`,
  );
  for (const failure of failures) console.log(`\nVIOLATION ${failure}`);
  if (failures.length > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
