/**
 * `npm run bench:recovery -- [--entries N] [--from-source] [--cpu-prof DIR]`: the restart time
 * of one replica holding N applied entries, from the WAL alone and from its newest snapshot
 * plus the WAL tail (the measurement of `npm run bench`'s recovery section, on its own). The
 * replica runs the compiled output, built first, as a deployment runs it; `--from-source` runs
 * the TypeScript sources instead. Prints; never asserts.
 */
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { recoveryBench } from './suite/recovery';

const { values: flags } = parseArgs({
  options: {
    entries: { type: 'string', default: '1000000' },
    'from-source': { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
  },
});

const entries = Number(flags.entries);
if (!Number.isSafeInteger(entries) || entries <= 0) {
  console.error(`--entries must be a positive integer, not '${flags.entries}'`);
  process.exit(2);
}
const compiled = !flags['from-source'];
if (compiled && spawnSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' }).status !== 0) {
  console.error('the build failed');
  process.exit(1);
}

void recoveryBench(entries, { cpuProfileDir: flags['cpu-prof'], compiled }).then(
  (figure) => console.log(JSON.stringify({ compiled, ...figure }, null, 2)),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
