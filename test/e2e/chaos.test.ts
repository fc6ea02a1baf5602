import { join } from 'node:path';
import { runChaos } from '../support/chaos/chaos-run';
import { repoRoot } from '../support/local-cluster';

jest.setTimeout(300_000);

// The fast tier of the chaos tests (the soak is `npm run soak:chaos`). The seed is fixed per
// run of the suite unless PARLEY_CHAOS_SEED is set, and printed with any failure, so a failing
// schedule can be replayed exactly.
const seed = Number(process.env.PARLEY_CHAOS_SEED ?? Date.now() % 1_000_000);
const resultsDir = join(repoRoot, '.test-results', 'chaos');

describe.each([
  { nodes: 3, seconds: 25, clients: 6 },
  { nodes: 5, seconds: 25, clients: 6 },
])(
  'chaos on real processes: $nodes replicas behind decision-api',
  ({ nodes, seconds, clients }) => {
    it('keeps KV linearizable, loses no acknowledged decision, never oversells, and recovers', async () => {
      const report = await runChaos({
        nodes,
        seconds,
        seed: seed + nodes,
        clients,
        resultsDir,
        log: (line) => process.stdout.write(`[chaos ${nodes}n] ${line}\n`),
      });
      process.stdout.write(
        `[chaos ${nodes}n] seed ${report.seed}: ${report.operations} operations ` +
          `(${report.kvOperationsChecked} KV checked, ${report.indeterminate} indeterminate), ` +
          `slow disk ${report.slowDisk}, ${report.faults.length} faults [${report.faults.map((f) => f.kind).join(', ')}], ` +
          `recovered in ${report.recoveryMs} ms, ${report.snapshotsInstalled} snapshots installed; history ${report.historyFile}\n`,
      );
      expect({
        seed: report.seed,
        history: report.historyFile,
        violations: report.violations,
      }).toEqual({
        seed: report.seed,
        history: report.historyFile,
        violations: [],
      });
      // The run did something worth checking.
      expect(report.faults.length).toBeGreaterThanOrEqual(3);
      expect(report.kvOperationsChecked).toBeGreaterThan(50);
    });
  },
);
