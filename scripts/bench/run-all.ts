/**
 * The full benchmark (npm run bench): the machine's floors, the Raft core in-process, Parley and
 * etcd side by side under the same load generator in the same run, decision workloads through
 * REST, restart time with many applied entries, memory, and the gossip and CRDT simulator
 * figures. Writes results.json, results.md and chart.svg under bench/results/<time>/ with the
 * machine's description. It prints and records figures; it asserts nothing about them.
 *
 * Strong writes load both systems with wrk (a compiled generator: the node:http one costs about
 * three times the CPU per request on the cores the servers share); the decision workloads keep
 * the node:http generator. Every level reports server CPU per request next to its latencies.
 *
 * Options: --wrk-seconds S (per strong-write level, default 15), --requests N (per decision
 * level, default 10000), --levels 1,16,64,256, --seconds S (bound per decision level, default
 * 60), --recovery-entries N (default 1000000; 0 skips), --skip-sims, --out DIR.
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
import { ParleyClient } from '@parley/client';
import { ClientLoadOptions, clientLoad } from './suite/client-load';
import { BENCH_AGENT_KEY, ParleyStack } from './suite/parley-stack';
import { cpuDuring, totalOf } from './suite/process-cpu';
import { peakRssDuring, rssOf } from './suite/process-memory';
import { WrkResult, WrkWorkload, wrkLoad } from './suite/wrk-load';
import { recoveryBench } from './suite/recovery';
import { LevelFigure, markdownReport } from './suite/report';

const repoRoot = join(__dirname, '..', '..');
const { values: flags } = parseArgs({
  options: {
    'wrk-seconds': { type: 'string', default: '15' },
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
const WRK_SECONDS = Number(flags['wrk-seconds']);
/** wrk's warm-up before each strong-write level: every connection open and the JIT warm. */
const WRK_WARMUP_SECONDS = 3;
/**
 * Warm-up before each level: 200 requests, and at least 4 per client, so every keep-alive
 * connection is open and has served a few requests before timing starts (with 256 clients a
 * 200-request warm-up left connection set-up inside the measured window, for both systems).
 */
const warmupFor = (clients: number) => Math.max(200, 4 * clients);
const RECOVERY_ENTRIES = Number(flags['recovery-entries']);
const VALUE = 'x'.repeat(100);
const KEYS = 1_000;

/** What either generator reports of one level. */
type Measured = Pick<WrkResult, 'ok' | 'failed' | 'perSecond' | 'p50Ms' | 'p99Ms' | 'p999Ms'> & {
  firstFailure?: string;
};

/**
 * Runs one level while reading the CPU of the system's server processes and their peak RSS;
 * `requests` is what the level answered, the CPU's divisor.
 */
async function measuredLevel(
  clients: number,
  pids: Record<string, number>,
  work: () => Promise<Measured & { requests: number }>,
): Promise<{ figure: LevelFigure; peakMiB: Record<string, number | null> }> {
  const { result: measured, peakMiB } = await peakRssDuring(pids, cpuDuring(pids, work));
  const { result, cpuSeconds } = measured;
  const round = (v: number) => Math.round(v * 1000) / 1000;
  return {
    peakMiB,
    figure: {
      clients,
      ok: result.ok,
      failed: result.failed,
      perSecond: Math.round(result.perSecond),
      p50Ms: round(result.p50Ms),
      p99Ms: round(result.p99Ms),
      p999Ms: round(result.p999Ms),
      serverCpuUsPerRequest: Math.round((totalOf(cpuSeconds) / Math.max(1, result.requests)) * 1e6),
      ...(result.firstFailure ? { firstFailure: result.firstFailure } : {}),
    },
  };
}

/** A strong-write level under wrk, after a short warm-up at the same concurrency. */
async function wrkLevel(
  url: string,
  clients: number,
  pids: Record<string, number>,
  workload: WrkWorkload,
) {
  await wrkLoad({ url, clients, seconds: WRK_WARMUP_SECONDS, workload });
  return measuredLevel(clients, pids, () =>
    wrkLoad({ url, clients, seconds: WRK_SECONDS, workload }),
  );
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
      const { figure, peakMiB } = await wrkLevel(stack.apiUrl, clients, stack.pids(), {
        method: 'PUT',
        path: `/v1/kv/${run}-{k}`,
        headers: stack.headers(),
        body: `{"requestId":"{n}","value":"${VALUE}"}`,
        keys: KEYS,
      });
      if (clients === 64) underLoadMiB = peakMiB;
      put.push(figure);
      log(`Parley PUT /v1/kv  clients=${clients}  ${JSON.stringify(put[put.length - 1])}`);
    }
    const reservations: LevelFigure[] = [];
    const increments: LevelFigure[] = [];
    /** One decision workload level through decision-api, as an agent calls it: @parley/client. */
    const workload = async (clients: number, operation: ClientLoadOptions['operation']) => {
      const { figure } = await measuredLevel(clients, stack.pids(), async () => {
        const result = await clientLoad({
          url: stack.apiUrl,
          apiKey: BENCH_AGENT_KEY,
          clients,
          requests: REQUESTS,
          seconds: SECONDS,
          warmup: warmupFor(clients),
          operation,
        });
        // The CPU reading spans the warm-up too, so its requests count.
        return { ...result, requests: result.ok + result.failed + warmupFor(clients) };
      });
      return figure;
    };
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
    // The same keys as Parley's, base64 as the gateway wants them, picked by wrk per request.
    const keyed = Array.from({ length: KEYS }, (_, k) => etcdPutBody(`${run}-${k}`, VALUE));
    for (const clients of LEVELS) {
      const { figure, peakMiB } = await wrkLevel(url, clients, cluster.pids(), {
        method: 'POST',
        path: '/v3/kv/put',
        body: '{K}',
        keyed,
      });
      if (clients === 64) underLoadMiB = peakMiB;
      put.push(figure);
      log(`etcd PUT /v3/kv/put  clients=${clients}  ${JSON.stringify(put[put.length - 1])}`);
    }
    return { put, memory: { atRestMiB, underLoad64MiB: underLoadMiB } };
  } finally {
    await cluster.stop();
  }
}

function chartPoint(p: LevelFigure) {
  return {
    clients: p.clients,
    perSecond: p.perSecond,
    p99Ms: p.p99Ms,
    cpuUsPerRequest: p.serverCpuUsPerRequest,
  };
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
      p999Ratio: Math.round((p.p999Ms / e.p999Ms) * 100) / 100,
      cpuPerRequestRatio:
        Math.round((p.serverCpuUsPerRequest / e.serverCpuUsPerRequest) * 100) / 100,
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
      wrkSecondsPerLevel: WRK_SECONDS,
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
      { name: 'Parley', colour: '#d9480f', points: parley.put.map(chartPoint) },
      { name: 'etcd', colour: '#1c7ed6', points: etcd.put.map(chartPoint) },
    ]),
  );
  console.log(markdownReport(results));
  log(`results in ${out}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
