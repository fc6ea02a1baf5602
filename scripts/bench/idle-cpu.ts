/**
 * CPU at rest (npm run bench:idle): a local 3-node Parley cluster as `npm start` runs it (ten
 * processes, the compiled dist/ unless --from-source), the same cluster as `npm start --
 * --colocated` runs it (three node processes), and a 3-member etcd cluster, one after the other
 * in one run, each left alone for --settle seconds, then each process's user + system time read
 * from /proc over --seconds, and each process's resident memory (RSS) at the end, with the part
 * of it no other process shares (private: RSS also counts shared code, such as the node
 * binary's, which every Node process maps and the machine holds once). Prints
 * millicores and MiB per process and in total; asserts nothing. --layout separate|colocated|both
 * picks the Parley layouts (both by default).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { waitForHttp } from '../../test/support/app-process';
import { freePort } from '../../test/support/ports';
import { waitFor } from '../../test/support/wait';
import { EtcdCluster } from './suite/etcd-cluster';
import { cpuDuring } from './suite/process-cpu';
import { privateOf, rssOf } from './suite/process-memory';

interface AtRest {
  millicores: Record<string, number>;
  rssMiB: Record<string, number | null>;
  privateMiB: Record<string, number | null>;
}

const repoRoot = join(__dirname, '..', '..');
const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' },
    settle: { type: 'string', default: '10' },
    'from-source': { type: 'boolean', default: false },
    'skip-etcd': { type: 'boolean', default: false },
    layout: { type: 'string', default: 'both' },
  },
});
const LAYOUTS = (['separate', 'colocated'] as const).filter(
  (layout) => values.layout === 'both' || values.layout === layout,
);
if (LAYOUTS.length === 0) throw new Error('--layout must be separate, colocated or both');
const SECONDS = Number(values.seconds);
const SETTLE_MS = Number(values.settle) * 1000;

/** Millicores each process used over the window, and its RSS at the end. */
async function idle(pids: Record<string, number>): Promise<AtRest> {
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  const started = performance.now();
  const { cpuSeconds } = await cpuDuring(
    pids,
    () => new Promise((resolve) => setTimeout(resolve, SECONDS * 1000)),
  );
  const wall = (performance.now() - started) / 1000;
  return {
    millicores: Object.fromEntries(
      Object.entries(cpuSeconds).map(([name, cpu]) => [name, (cpu / wall) * 1000]),
    ),
    rssMiB: rssOf(pids),
    privateMiB: privateOf(pids),
  };
}

function print(system: string, { millicores, rssMiB, privateMiB }: AtRest): number {
  const total = Object.values(millicores).reduce((a, b) => a + b, 0);
  const sum = (values: Record<string, number | null>) =>
    Object.values(values).reduce<number>((a, b) => a + (b ?? 0), 0);
  console.log(
    `\n${system}: ${total.toFixed(0)} millicores in total at rest over ${SECONDS} s, ` +
      `${sum(rssMiB).toFixed(0)} MiB resident (${sum(privateMiB).toFixed(0)} MiB of it private)`,
  );
  for (const [name, value] of Object.entries(millicores).sort())
    console.log(
      `  ${name.padEnd(16)} ${value.toFixed(1).padStart(6)} millicores ${String(rssMiB[name] ?? '-').padStart(7)} MiB resident ${String(privateMiB[name] ?? '-').padStart(7)} MiB private`,
    );
  return total;
}

/** A local cluster's processes: ten apart, or three node processes (--colocated). */
async function parleyAtRest(layout: 'separate' | 'colocated'): Promise<AtRest> {
  const processes = layout === 'colocated' ? 3 : 10;
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-idle-'));
  // A base port with the cluster's whole range free (decision-api +1.., command-log +101..).
  const basePort = (await freePort()) - 1;
  const child: ChildProcess = spawn(
    process.execPath,
    [
      join(repoRoot, 'scripts', 'start-local.js'),
      '--data-dir',
      dataDir,
      '--base-port',
      String(basePort),
      ...(values['from-source'] ? ['--from-source'] : []),
      ...(layout === 'colocated' ? ['--colocated'] : []),
    ],
    { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    await waitForHttp(`http://127.0.0.1:${basePort + 1}/health/ready`, 200, 180_000);
    const processesFile = join(dataDir, 'processes.json');
    const pids = await waitFor(
      `${processes} processes in processes.json`,
      () => {
        if (!existsSync(processesFile)) return undefined;
        const listed = JSON.parse(readFileSync(processesFile, 'utf8')) as Record<string, number>;
        return Object.keys(listed).length >= processes ? listed : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    return await idle(pids);
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function etcdAtRest(): Promise<AtRest> {
  EtcdCluster.ensureInstalled(repoRoot);
  const cluster = await EtcdCluster.start(3);
  try {
    return await idle(cluster.pids());
  } finally {
    await cluster.stop();
  }
}

async function main(): Promise<void> {
  // Every process runs on this Node (the same binary): its heap defaults change the RSS.
  console.log(`Node ${process.version}`);
  const parley: [string, number][] = [];
  for (const layout of LAYOUTS) {
    const title =
      layout === 'colocated'
        ? 'Parley (npm start -- --colocated, 3 node processes)'
        : 'Parley (npm start, 3 nodes, 10 processes)';
    parley.push([layout, print(title, await parleyAtRest(layout))]);
  }
  if (values['skip-etcd']) return;
  const etcd = print('etcd (3 members)', await etcdAtRest());
  for (const [layout, millicores] of parley)
    console.log(`Parley ${layout} / etcd at rest: ${(millicores / etcd).toFixed(1)}x`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
