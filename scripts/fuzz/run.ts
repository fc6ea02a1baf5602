/**
 * Fuzzes every decoder (issue #9): npm run fuzz -- [--runs N] [--seconds S] [--target NAME] [--seed S]
 *
 * Each target runs in its own child process for up to N inputs (default 100,000) or S seconds
 * (default 60), whichever comes first, under the harness's per-input time and memory bounds.
 * A child that gives no answer S + 30 seconds after it started (an input that never returns,
 * which no in-process bound can interrupt) is killed and counted as a failure. Prints one row
 * per target (executions, failures, wall time, execs/s, seed), then each failure's
 * counterexample; replay one with --target NAME --seed S. Exits 1 when anything failed.
 */
import { fork } from 'node:child_process';
import { FuzzReport, runFuzzTarget } from '../../test/fuzz/harness';
import { ALL_TARGETS } from '../../test/fuzz/targets';

const KILL_GRACE_MS = 30_000;

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1] : undefined;
};
const integer = (name: string, fallback: number, min: number, max: number): number => {
  const raw = option(name);
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    console.error(`--${name} must be an integer from ${min} to ${max}, got ${raw}`);
    process.exit(2);
  }
  return value;
};

const runs = integer('runs', 100_000, 1, 100_000_000);
const seconds = integer('seconds', 60, 1, 24 * 3600);
const fixedSeed =
  option('seed') === undefined ? undefined : integer('seed', 0, -(2 ** 31), 2 ** 31 - 1);
const only = option('target');

if (option('child') !== undefined) {
  void runChild(option('child')!);
} else {
  void runAll();
}

/** Child mode: one target, its report back to the parent over IPC. */
async function runChild(name: string): Promise<void> {
  const target = ALL_TARGETS.find((t) => t.name === name);
  if (!target) throw new Error(`no fuzz target ${name}`);
  const report = await runFuzzTarget(target, {
    numRuns: runs,
    seed: fixedSeed,
    timeLimitMs: seconds * 1000,
  });
  process.send!(report, () => process.exit(0));
}

interface Row {
  report: FuzzReport;
  note: string;
}

function runInChild(name: string, seed: number): Promise<Row> {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = fork(
      __filename,
      [
        '--child',
        name,
        '--runs',
        String(runs),
        '--seconds',
        String(seconds),
        '--seed',
        String(seed),
      ],
      { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    );
    let answered = false;
    const unanswered = (why: string): Row => ({
      report: {
        target: name,
        executions: 0,
        failures: 1,
        wallMs: performance.now() - started,
        execsPerSecond: 0,
        seed,
        interrupted: false,
        failure: `${name}: ${why} (replay: npm run fuzz -- --target ${name} --seed ${seed} --runs ${runs})`,
      },
      note: why,
    });
    const killer = setTimeout(
      () => {
        answered = true;
        child.kill('SIGKILL');
        resolve(
          unanswered(
            `no answer after ${seconds} s + ${KILL_GRACE_MS / 1000} s: an input never returned`,
          ),
        );
      },
      seconds * 1000 + KILL_GRACE_MS,
    );
    child.on('message', (report: FuzzReport) => {
      if (answered) return;
      answered = true;
      clearTimeout(killer);
      resolve({ report, note: report.interrupted ? `stopped at the ${seconds} s limit` : '' });
    });
    child.on('exit', (code, signal) => {
      if (answered) return;
      answered = true;
      clearTimeout(killer);
      resolve(unanswered(`the child process died (exit ${code ?? signal})`));
    });
  });
}

async function runAll(): Promise<void> {
  const targets = ALL_TARGETS.filter((t) => only === undefined || t.name === only);
  if (targets.length === 0) {
    console.error(`no fuzz target ${only}; targets: ${ALL_TARGETS.map((t) => t.name).join(', ')}`);
    process.exit(2);
  }
  console.log(`fuzzing ${targets.length} targets: up to ${runs} inputs or ${seconds} s each\n`);
  const header = ['target', 'executions', 'failures', 'wall s', 'execs/s', 'seed', ''];
  const widths = [20, 11, 9, 8, 9, 12, 0];
  const line = (cells: string[]) =>
    cells
      .map((cell, i) =>
        i === 0 || i === cells.length - 1 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]),
      )
      .join('  ');
  console.log(line(header));
  const rows: Row[] = [];
  for (const target of targets) {
    const seed = fixedSeed ?? Math.floor(Math.random() * 2 ** 31);
    const row = await runInChild(target.name, seed);
    rows.push(row);
    const { report } = row;
    console.log(
      line([
        report.target,
        String(report.executions),
        String(report.failures),
        (report.wallMs / 1000).toFixed(1),
        report.execsPerSecond.toFixed(0),
        String(report.seed),
        row.note,
      ]),
    );
  }
  const total = rows.reduce((n, r) => n + r.report.executions, 0);
  const failed = rows.filter((r) => r.report.failure !== undefined);
  console.log(`\n${total} executions, ${failed.length} failing targets`);
  for (const { report } of failed) console.log(`\n--- ${report.target} ---\n${report.failure}`);
  process.exit(failed.length > 0 ? 1 : 0);
}
