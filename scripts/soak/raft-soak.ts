/**
 * Soak the Raft core in the deterministic simulator:
 *   npm run soak:raft -- --seeds 10000 [--from 1] [--nodes 3|5|mixed] [--scenario stalls|figure-8]
 *   npm run soak:raft -- --seed 1234 [--nodes 5] [--scenario ...] [--trace]   (replay one seed)
 * Prints seeds per second, operations checked, faults injected and violations; exits 1 on any.
 */
import { runSimulation } from '../../libs/sim/src/raft/cluster-sim';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1] : undefined;
};
const nodesArg = option('nodes') ?? 'mixed';
const nodesFor = (seed: number): 3 | 5 =>
  nodesArg === '3' ? 3 : nodesArg === '5' ? 5 : seed % 2 === 1 ? 3 : 5;

const scenarioArg = option('scenario');
const scenario =
  scenarioArg === 'stalls' || scenarioArg === 'figure-8' || scenarioArg === undefined
    ? scenarioArg
    : undefined;
if (scenarioArg !== undefined && scenario === undefined) {
  console.error(`unknown --scenario ${scenarioArg}: stalls or figure-8`);
  process.exit(2);
}

const single = option('seed');
const from = single !== undefined ? Number(single) : Number(option('from') ?? 1);
const count = single !== undefined ? 1 : Number(option('seeds') ?? 1000);
if (!Number.isInteger(from) || !Number.isInteger(count) || count < 1 || count > 10_000_000) {
  console.error('usage: raft-soak --seeds N [--from S] [--nodes 3|5|mixed] | --seed S [--trace]');
  process.exit(2);
}

async function main(): Promise<void> {
  const started = performance.now();
  let ops = 0;
  let unknown = 0;
  let faults = 0;
  let failures = 0;
  for (let seed = from; seed < from + count; seed += 1) {
    const result = await runSimulation({
      seed,
      nodeCount: nodesFor(seed),
      scenario,
      trace:
        single !== undefined && args.includes('--trace') ? (line) => console.log(line) : undefined,
    });
    ops += result.opsChecked;
    unknown += result.opsUnknown;
    faults += result.faultsInjected;
    if (result.violations.length > 0) {
      failures += 1;
      console.log(`\nseed ${seed} (${nodesFor(seed)} nodes) FAILED; replay: ${result.replay}`);
      for (const violation of result.violations) console.log(`  ${violation}`);
    }
    const done = seed - from + 1;
    if (done % 500 === 0) {
      const seconds = (performance.now() - started) / 1000;
      console.log(
        `${done}/${count} seeds, ${(done / seconds).toFixed(1)} seeds/s, ${failures} failing`,
      );
    }
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `seeds: ${count}  seeds/s: ${(count / seconds).toFixed(1)}  wall: ${seconds.toFixed(1)} s  ` +
      `ops checked: ${ops} (${unknown} with unknown outcome)  faults injected: ${faults}  violations: ${failures}`,
  );
  process.exit(failures > 0 ? 1 : 0);
}

void main();
