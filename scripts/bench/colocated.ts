/**
 * The two ways to deploy Parley side by side with etcd (npm run bench:colocated): strong PUTs
 * under wrk against (1) the separate apps, as `npm run bench` runs them (three command-log
 * replicas, a crdt replica, one decision-api), (2) three node processes (apps/node), the load on
 * the leader's node (whose decision-api calls its replica in-process), on a follower's node, and
 * spread over the three nodes, and (3) a 3-member etcd cluster, the load on its leader. All compiled (`npm run build` first), fsync on, one after the
 * other in one run. For each level: throughput, p50/p99/p99.9, server CPU per request (every
 * server process, from /proc), and each layout's RSS at rest and at its peak under the 64-client
 * level; and counter increments (the eventual lane) through both Parley layouts, beside their PUTs.
 * "At rest" is read before a layout's first level (after a previous one's load for the later
 * loadings of the same processes). Prints; asserts nothing.
 *
 * Options: --seconds S (per level, default 10), --levels 1,16,64,256, --rounds N (default 1: the
 * three systems in turn, N times, to see the spread).
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { EtcdCluster, etcdPutBody } from './suite/etcd-cluster';
import { NodeStack } from './suite/node-stack';
import { ParleyStack } from './suite/parley-stack';
import { cpuDuring, totalOf } from './suite/process-cpu';
import { peakRssDuring, rssOf } from './suite/process-memory';
import { WrkResult, WrkWorkload, wrkLoad } from './suite/wrk-load';

const repoRoot = join(__dirname, '..', '..');
const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    levels: { type: 'string', default: '1,16,64,256' },
    rounds: { type: 'string', default: '1' },
  },
});
const SECONDS = Number(values.seconds);
const LEVELS = values.levels!.split(',').map(Number);
const ROUNDS = Number(values.rounds);
const WARMUP_SECONDS = 3;
const VALUE = 'x'.repeat(100);
const KEYS = 1_000;

interface Level {
  clients: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  cpuUsPerRequest: number;
  failed: number;
}

interface Side {
  name: string;
  levels: Level[];
  /** Counter increments (the eventual lane) at the same levels, for Parley's layouts. */
  increments?: Level[];
  atRestMiB: number;
  peak64MiB: number;
  processes: number;
}

const sum = (values: Record<string, number | null>) =>
  Math.round(Object.values(values).reduce<number>((a, b) => a + (b ?? 0), 0));

/**
 * wrk at `clients` connections, spread over `urls` when there are several (one wrk each, one
 * thread each, the connections shared out; a level below one per URL goes to the first): the
 * answers add up, and each percentile is the highest of the generators' (an upper bound).
 */
async function spreadLoad(urls: string[], clients: number, seconds: number, workload: WrkWorkload) {
  const used = clients >= urls.length ? urls : urls.slice(0, 1);
  const results = await Promise.all(
    used.map((url, i) =>
      wrkLoad({
        url,
        clients: Math.floor(clients / used.length) + (i < clients % used.length ? 1 : 0),
        seconds,
        workload,
        ...(used.length > 1 ? { threads: 1 } : {}),
      }),
    ),
  );
  const total = (pick: (r: WrkResult) => number) => results.reduce((a, r) => a + pick(r), 0);
  const highest = (pick: (r: WrkResult) => number) => Math.max(...results.map(pick));
  return {
    requests: total((r) => r.requests),
    failed: total((r) => r.failed),
    perSecond: total((r) => r.perSecond),
    p50Ms: highest((r) => r.p50Ms),
    p99Ms: highest((r) => r.p99Ms),
    p999Ms: highest((r) => r.p999Ms),
  };
}

/** Each level under `workload`, with the peak RSS of the 64-client level. */
async function measure(
  name: string,
  urls: string[],
  pids: Record<string, number>,
  workload: WrkWorkload,
): Promise<{ levels: Level[]; peak64MiB: number }> {
  const measured: Level[] = [];
  let peak64MiB = 0;
  for (const clients of LEVELS) {
    await spreadLoad(urls, clients, WARMUP_SECONDS, workload);
    const { result, peakMiB } = await peakRssDuring(
      pids,
      cpuDuring(pids, () => spreadLoad(urls, clients, SECONDS, workload)),
    );
    const { result: wrk, cpuSeconds } = result;
    if (clients === 64) peak64MiB = sum(peakMiB);
    const level = {
      clients,
      perSecond: Math.round(wrk.perSecond),
      p50Ms: wrk.p50Ms,
      p99Ms: wrk.p99Ms,
      p999Ms: wrk.p999Ms,
      cpuUsPerRequest: Math.round((totalOf(cpuSeconds) / Math.max(1, wrk.requests)) * 1e6),
      failed: wrk.failed,
    };
    measured.push(level);
    console.log(`  ${name.padEnd(28)} ${JSON.stringify(level)}`);
  }
  return { levels: measured, peak64MiB };
}

/** A layout's strong writes (and, for Parley, `increments` too) at every level. */
async function side(
  name: string,
  urls: string[],
  pids: Record<string, number>,
  workload: WrkWorkload,
  increments?: WrkWorkload,
): Promise<Side> {
  const atRestMiB = sum(rssOf(pids));
  const { levels, peak64MiB } = await measure(name, urls, pids, workload);
  const eventual = increments
    ? (await measure(`${name}, increments`, urls, pids, increments)).levels
    : undefined;
  return {
    name,
    levels,
    ...(eventual ? { increments: eventual } : {}),
    atRestMiB,
    peak64MiB,
    processes: Object.keys(pids).length,
  };
}

/** One counter's increments, as bench:eventual loads them. */
function incrementWorkload(run: string, headers: Record<string, string>): WrkWorkload {
  return {
    method: 'POST',
    path: `/v1/counters/${run}/increment`,
    headers,
    body: '{"delta":1}',
  };
}

function parleyWorkload(run: string, headers: Record<string, string>): WrkWorkload {
  return {
    method: 'PUT',
    path: `/v1/kv/${run}-{k}`,
    headers,
    body: `{"requestId":"{n}","value":"${VALUE}"}`,
    keys: KEYS,
  };
}

async function separate(run: string): Promise<Side> {
  const compiled = { RUN_COMPILED: 'true' };
  const stack = await ParleyStack.start(3, { api: compiled, commandLog: compiled, crdt: compiled });
  try {
    return await side(
      'separate',
      [stack.apiUrl],
      stack.pids(),
      parleyWorkload(run, stack.headers()),
      incrementWorkload(run, stack.headers()),
    );
  } finally {
    await stack.stop();
  }
}

/**
 * Three node processes, loaded three ways in turn: on the leader's node (every write in-process
 * to the replica), on a follower's node (every write forwarded to the leader over TCP, as the
 * separate layout does), and spread over the three (as clients that know every node do).
 */
async function colocated(run: string): Promise<Side[]> {
  const stack = await NodeStack.start(3);
  try {
    const leader = await stack.leaderUrl();
    const follower = stack.urls().find((url) => url !== leader)!;
    const workload = parleyWorkload(run, stack.headers());
    return [
      await side(
        'colocated, leader',
        [leader],
        stack.pids(),
        workload,
        incrementWorkload(run, stack.headers()),
      ),
      await side('colocated, follower', [follower], stack.pids(), workload),
      await side('colocated, spread', stack.urls(), stack.pids(), workload),
    ];
  } finally {
    await stack.stop();
  }
}

async function etcd(run: string): Promise<Side> {
  const cluster = await EtcdCluster.start(3);
  try {
    const keyed = Array.from({ length: KEYS }, (_, k) => etcdPutBody(`${run}-${k}`, VALUE));
    return await side('etcd', [await cluster.leaderUrl()], cluster.pids(), {
      method: 'POST',
      path: '/v3/kv/put',
      body: '{K}',
      keyed,
    });
  } finally {
    await cluster.stop();
  }
}

function report(sides: Side[]): void {
  const etcdSide = sides.find((side) => side.name === 'etcd')!;
  console.log(
    '\n| layout | clients | writes/s | p50 ms | p99 ms | p99.9 ms | server CPU µs/req | vs etcd: throughput, p99, CPU/req |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---|');
  for (const side of sides)
    for (const level of side.levels) {
      const e = etcdSide.levels.find((l) => l.clients === level.clients)!;
      const ratio = (a: number, b: number) => (b > 0 ? (a / b).toFixed(2) : '-');
      console.log(
        `| ${side.name} | ${level.clients} | ${level.perSecond} | ${level.p50Ms} | ${level.p99Ms} | ${level.p999Ms} | ${level.cpuUsPerRequest} | ` +
          (side === etcdSide
            ? '|'
            : `${ratio(level.perSecond, e.perSecond)}, ${ratio(level.p99Ms, e.p99Ms)}, ${ratio(level.cpuUsPerRequest, e.cpuUsPerRequest)} |`),
      );
    }
  console.log(
    '\n| layout | clients | increments/s | p50 ms | p99 ms | server CPU µs/req | increments/s ÷ PUTs/s |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const side of sides)
    for (const level of side.increments ?? []) {
      const put = side.levels.find((l) => l.clients === level.clients)!;
      console.log(
        `| ${side.name} | ${level.clients} | ${level.perSecond} | ${level.p50Ms} | ${level.p99Ms} | ${level.cpuUsPerRequest} | ${(level.perSecond / Math.max(1, put.perSecond)).toFixed(2)} |`,
      );
    }
  console.log('\n| layout | processes | RSS at rest MiB | peak RSS at 64 clients MiB |');
  console.log('|---|---:|---:|---:|');
  for (const side of sides)
    console.log(`| ${side.name} | ${side.processes} | ${side.atRestMiB} | ${side.peak64MiB} |`);
}

async function main(): Promise<void> {
  EtcdCluster.ensureInstalled(repoRoot);
  for (let round = 1; round <= ROUNDS; round += 1) {
    const run = `c${Date.now().toString(36)}`;
    console.log(
      `round ${round} of ${ROUNDS} (${new Date().toISOString()}, Node ${process.version})`,
    );
    report([await separate(run), ...(await colocated(run)), await etcd(run)]);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
