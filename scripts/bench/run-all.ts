/**
 * The full benchmark (npm run bench): the machine's floors, the Raft core in-process, Parley and
 * etcd side by side under the same load generator in the same run, decision workloads through
 * REST, restart time with many applied entries, memory, and the gossip and CRDT simulator
 * figures. Writes results.json, results.md and chart.svg under bench/results/<time>/ with the
 * machine's description. It prints and records figures; it asserts nothing about them.
 *
 * Options: --requests N (per level, default 10000), --levels 1,16,64,256, --seconds S (bound per
 * level, default 60), --recovery-entries N (default 1000000; 0 skips), --skip-sims, --out DIR.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, hostname, release, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { raftCoreFigures } from './raft-core';
import { throughputAndLatencyChart } from './suite/chart';
import { EtcdCluster, etcdPutBody } from './suite/etcd-cluster';
import { codecFloor, fsyncFloor, httpRoundTripFloor, tcpRoundTripFloor } from './suite/floors';
import { HttpLoadResult, httpLoad } from './suite/http-load';
import { ParleyClient } from '@parley/client';
import { ClientLoadOptions, clientLoad } from './suite/client-load';
import { BENCH_AGENT_KEY, ParleyStack } from './suite/parley-stack';
import { peakRssDuring, rssOf } from './suite/process-memory';
import { recoveryBench } from './suite/recovery';
import { LevelFigure, markdownReport } from './suite/report';

const repoRoot = join(__dirname, '..', '..');
const { values: flags } = parseArgs({
  options: {
    requests: { type: 'string', default: '10000' },
    levels: { type: 'string', default: '1,16,64,256' },
    seconds: { type: 'string', default: '60' },
    'recovery-entries': { type: 'string', default: '1000000' },
    'skip-sims': { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
const REQUESTS = Number(flags.requests);
const LEVELS = flags.levels!.split(',').map(Number);
const SECONDS = Number(flags.seconds);
/**
 * Warm-up before each level: 200 requests, and at least 4 per client, so every keep-alive
 * connection is open and has served a few requests before timing starts (with 256 clients a
 * 200-request warm-up left connection set-up inside the measured window, for both systems).
 */
const warmupFor = (clients: number) => Math.max(200, 4 * clients);
const RECOVERY_ENTRIES = Number(flags['recovery-entries']);
const VALUE = 'x'.repeat(100);
const KEYS = 1_000;

function level(clients: number, result: HttpLoadResult): LevelFigure {
  const round = (v: number) => Math.round(v * 1000) / 1000;
  return {
    clients,
    ok: result.ok,
    failed: result.failed,
    perSecond: Math.round(result.perSecond),
    p50Ms: round(result.p50Ms),
    p99Ms: round(result.p99Ms),
    p999Ms: round(result.p999Ms),
    ...(result.firstFailure ? { firstFailure: result.firstFailure } : {}),
  };
}

function log(line: string): void {
  console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);
}

function describeMachine(etcdVersion: string) {
  const disk = execFileSync('df', ['-h', '--output=source,fstype,size', tmpdir()], {
    encoding: 'utf8',
  })
    .trim()
    .split('\n')
    .pop();
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    etcd: etcdVersion,
    dataDisk: `${tmpdir()} on ${disk}`,
    host: hostname(),
  };
}

async function parleySide(run: string) {
  log('Parley: 3 command-log replicas (fsync on) + crdt + decision-api');
  const stack = await ParleyStack.start();
  try {
    const atRestMiB = rssOf(stack.pids());
    const put: LevelFigure[] = [];
    let underLoadMiB: Record<string, number | null> = {};
    for (const clients of LEVELS) {
      const work = httpLoad({
        url: stack.apiUrl,
        clients,
        requests: REQUESTS,
        seconds: SECONDS,
        warmup: warmupFor(clients),
        request: (n) => ({
          method: 'PUT',
          path: `/v1/kv/${run}-${(n + KEYS) % KEYS}`,
          headers: stack.headers(),
          body: JSON.stringify({ requestId: `${run}-${clients}-${n}`, value: VALUE }),
        }),
      });
      const { result, peakMiB } = await peakRssDuring(stack.pids(), work);
      if (clients === 64) underLoadMiB = peakMiB;
      put.push(level(clients, result));
      log(`Parley PUT /v1/kv  clients=${clients}  ${JSON.stringify(put[put.length - 1])}`);
    }
    const reservations: LevelFigure[] = [];
    const increments: LevelFigure[] = [];
    /** One decision workload level through decision-api, as an agent calls it: @parley/client. */
    const workload = async (clients: number, operation: ClientLoadOptions['operation']) =>
      level(
        clients,
        await clientLoad({
          url: stack.apiUrl,
          apiKey: BENCH_AGENT_KEY,
          clients,
          requests: REQUESTS,
          seconds: SECONDS,
          warmup: warmupFor(clients),
          operation,
        }),
      );
    const setup = new ParleyClient({ endpoints: stack.apiUrl, apiKey: BENCH_AGENT_KEY });
    try {
      await setup.inventory.restock(run, 10_000_000, { requestId: `${run}-restock` });
    } finally {
      setup.close();
    }
    for (const clients of LEVELS.filter((c) => c <= 64)) {
      reservations.push(
        await workload(clients, async (client, n) => {
          const answer = await client.inventory.reserve(
            run,
            { orderId: `o-${clients}-${n}`, quantity: 1 },
            { requestId: `${run}-r-${clients}-${n}` },
          );
          return answer.status === 'accepted';
        }),
      );
      increments.push(
        await workload(clients, async (client) => {
          await client.counters.increment(run, 1);
          return true;
        }),
      );
      log(`Parley reservations/increments clients=${clients} done`);
    }
    return { put, reservations, increments, memory: { atRestMiB, underLoad64MiB: underLoadMiB } };
  } finally {
    await stack.stop();
  }
}

async function etcdSide(run: string) {
  log('etcd: 3 members (fsync on, as always), v3 JSON gateway');
  const cluster = await EtcdCluster.start(3);
  try {
    const atRestMiB = rssOf(cluster.pids());
    const put: LevelFigure[] = [];
    let underLoadMiB: Record<string, number | null> = {};
    // The load goes to one member, as Parley's goes to one decision-api; a follower forwards
    // to its leader, as decision-api does.
    const url = cluster.members[0].clientUrl;
    for (const clients of LEVELS) {
      const work = httpLoad({
        url,
        clients,
        requests: REQUESTS,
        seconds: SECONDS,
        warmup: warmupFor(clients),
        request: (n) => ({
          method: 'POST',
          path: '/v3/kv/put',
          body: etcdPutBody(`${run}-${(n + KEYS) % KEYS}`, VALUE),
        }),
        accept: (status, body) => status === 200 && body.includes('"header"'),
      });
      const { result, peakMiB } = await peakRssDuring(cluster.pids(), work);
      if (clients === 64) underLoadMiB = peakMiB;
      put.push(level(clients, result));
      log(`etcd PUT /v3/kv/put  clients=${clients}  ${JSON.stringify(put[put.length - 1])}`);
    }
    return { put, memory: { atRestMiB, underLoad64MiB: underLoadMiB } };
  } finally {
    await cluster.stop();
  }
}

/** The simulator benchmarks, run as they run alone; their printed figures go in the report. */
function simulatorFigures(): Record<string, string> {
  const figures: Record<string, string> = {};
  for (const name of ['gossip-sim', 'crdt']) {
    log(`simulator: ${name}`);
    figures[name] = execFileSync(
      process.execPath,
      ['-r', '@swc-node/register', join(repoRoot, 'scripts', 'bench', `${name}.ts`)],
      { cwd: repoRoot, encoding: 'utf8', timeout: 900_000 },
    );
  }
  return figures;
}

async function main(): Promise<void> {
  const started = new Date();
  const etcdVersion = EtcdCluster.ensureInstalled(repoRoot);
  const machine = describeMachine(etcdVersion);
  log(`machine: ${JSON.stringify(machine)}`);
  const run = `b${started.getTime().toString(36)}`;

  log('floors: fsync, loopback TCP, HTTP keep-alive, codec');
  const floors = {
    fsync4KiB: fsyncFloor(tmpdir()),
    tcpRoundTrip: await tcpRoundTripFloor(),
    httpRoundTrip: await httpRoundTripFloor(),
    codec: codecFloor(),
  };
  log(`floors: ${JSON.stringify(floors)}`);
  const raftCore = raftCoreFigures();
  const parley = await parleySide(run);
  const etcd = await etcdSide(run);
  const comparison = parley.put.map((p) => {
    const e = etcd.put.find((x) => x.clients === p.clients)!;
    return {
      clients: p.clients,
      throughputRatio: Math.round((p.perSecond / e.perSecond) * 100) / 100,
      p50Ratio: Math.round((p.p50Ms / e.p50Ms) * 100) / 100,
      p99Ratio: Math.round((p.p99Ms / e.p99Ms) * 100) / 100,
    };
  });
  let recovery;
  if (RECOVERY_ENTRIES > 0) {
    log(`recovery: a replica with ${RECOVERY_ENTRIES} applied entries`);
    recovery = await recoveryBench(RECOVERY_ENTRIES);
    log(`recovery: ${JSON.stringify(recovery)}`);
  }
  const simulators = flags['skip-sims'] ? undefined : simulatorFigures();

  const results = {
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    settings: {
      requestsPerLevel: REQUESTS,
      levels: LEVELS,
      secondsBoundPerLevel: SECONDS,
      valueBytes: 100,
    },
    machine,
    floors,
    raftCore,
    parley,
    etcd,
    comparison,
    recovery,
    simulators,
  };
  const out =
    flags.out ??
    join(repoRoot, 'bench', 'results', started.toISOString().slice(0, 16).replace(':', '-'));
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(out, 'results.md'), markdownReport(results));
  writeFileSync(
    join(out, 'chart.svg'),
    throughputAndLatencyChart('Strong writes, 100-byte values, 3 nodes, fsync on, loopback', [
      {
        name: 'Parley',
        colour: '#d9480f',
        points: parley.put.map((p) => ({
          clients: p.clients,
          perSecond: p.perSecond,
          p99Ms: p.p99Ms,
        })),
      },
      {
        name: 'etcd',
        colour: '#1c7ed6',
        points: etcd.put.map((p) => ({
          clients: p.clients,
          perSecond: p.perSecond,
          p99Ms: p.p99Ms,
        })),
      },
    ]),
  );
  console.log(markdownReport(results));
  log(`results in ${out}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
