/**
 * CPU profiles of a REST write path (npm run profile:rest -- --clients 64 [--route increment]):
 * the Parley stack with --cpu-prof on decision-api, every command-log replica and the crdt
 * replica, a bounded load of strong PUTs (or eventual counter increments), then
 * a stop so the profiles are written. Prints the hottest functions of each process by self time
 * and leaves the .cpuprofile files (open them in Chrome DevTools) in the output folder.
 */
import { mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { httpLoad } from '../suite/http-load';
import { ParleyStack } from '../suite/parley-stack';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '64' },
    requests: { type: 'string', default: '8000' },
    out: { type: 'string', default: '/tmp/parley-profiles' },
    route: { type: 'string', default: 'put' },
  },
});

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** The load's span on the monotonic clock, in µs: V8 stamps profile samples on the same clock. */
interface Window {
  fromUs: number;
  toUs: number;
  requests: number;
}

/**
 * Each sample's node id and duration, keeping only those inside the load window, so module
 * loading at start-up and the idle tail do not dilute the figures.
 */
function samplesIn(profile: CpuProfile, window: Window): Array<[number, number]> {
  const kept: Array<[number, number]> = [];
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    at += dt;
    if (at >= window.fromUs && at <= window.toUs) kept.push([id, dt]);
  });
  return kept;
}

/** Self time grouped by package (node_modules) or source folder: where the CPU goes. */
function byModule(
  samples: Array<[number, number]>,
  byId: Map<number, ProfileNode>,
  requests: number,
): string {
  const groups = new Map<string, number>();
  let total = 0;
  samples.forEach(([id, dt]) => {
    const { url, functionName } = byId.get(id)!.callFrame;
    const group = url.includes('node_modules/')
      ? url.replace(/^.*node_modules\/((@[^/]+\/)?[^/]+).*$/, '$1')
      : url.includes('/work/main/')
        ? url.replace(/^.*\/work\/main\/((apps|libs)\/[^/]+).*$/, '$1')
        : url.startsWith('node:')
          ? url.replace(/^node:(internal\/)?([^/]+).*$/, 'node:$2')
          : `(${functionName || 'native'})`;
    groups.set(group, (groups.get(group) ?? 0) + dt);
    total += dt;
  });
  return [...groups]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 15)
    .map(([group, us]) => `${share(us, total, requests)}  ${group}`)
    .join('\n');
}

/** "12.3%  45.6 µs/req": a share of the window and the CPU it costs per request. */
function share(us: number, total: number, requests: number): string {
  const percent = `${((us / total) * 100).toFixed(1).padStart(5)}%`;
  return `${percent} ${(us / requests).toFixed(1).padStart(6)} µs/req`;
}

function hottest(
  file: string,
  window: Window,
  top = Number(process.env.PROFILE_TOP ?? 25),
): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const samples = samplesIn(profile, window);
  const self = new Map<string, number>();
  let total = 0;
  let idle = 0;
  samples.forEach(([id, dt]) => {
    const frame = byId.get(id)!.callFrame;
    const where = frame.url.replace(/^.*node_modules\//, '~/').replace(/^.*\/work\/main\//, '');
    const key = `${frame.functionName || '(anonymous)'} ${where}:${frame.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
    if (frame.functionName === '(idle)') idle += dt;
  });
  const functions = [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([key, us]) => `${share(us, total, window.requests)}  ${key}`)
    .join('\n');
  const busy = `busy ${((total - idle) / window.requests).toFixed(1)} µs/req over ${samples.length} samples`;
  return `${busy}\nby module:\n${byModule(samples, byId, window.requests)}\nby function:\n${functions}`;
}

const WARMUP_REQUESTS = 500;

async function main(): Promise<void> {
  const out = values.out!;
  // Profiles of an earlier run in the same folder would be read as this run's.
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const prof = { NODE_EXTRA_ARGS: `--cpu-prof --cpu-prof-dir=${out}` };
  // PROFILE_KAFKA_BROKERS: the replicas mirror to that Kafka, to see what the mirror costs.
  const brokers = process.env.PROFILE_KAFKA_BROKERS;
  const mirror: Record<string, string> = brokers
    ? { PARLEY_KAFKA_BROKERS: brokers, PARLEY_CLUSTER_ID: `profile-${Date.now().toString(36)}` }
    : {};
  const stack = await ParleyStack.start(3, {
    api: prof,
    commandLog: { ...prof, ...mirror },
    crdt: prof,
  });
  const increments = values.route === 'increment';
  const clients = Number(values.clients);
  const fromUs = Number(process.hrtime.bigint() / 1000n);
  const result = await httpLoad({
    url: stack.apiUrl,
    clients,
    requests: Number(values.requests),
    seconds: 120,
    warmup: WARMUP_REQUESTS,
    request: (n) =>
      increments
        ? {
            method: 'POST',
            path: `/v1/counters/p-${(n + 1000) % 100}/increment`,
            headers: stack.headers(),
            body: '{"delta":1}',
          }
        : {
            method: 'PUT',
            path: `/v1/kv/p-${(n + 1000) % 1000}`,
            headers: stack.headers(),
            body: JSON.stringify({ requestId: `p-${Date.now()}-${n}`, value: 'x'.repeat(100) }),
          },
  });
  const window: Window = {
    fromUs,
    toUs: Number(process.hrtime.bigint() / 1000n),
    requests: result.ok + result.failed + WARMUP_REQUESTS,
  };
  console.log(
    `clients=${clients} ok=${result.ok} failed=${result.failed} ${Math.round(result.perSecond)}/s p50=${result.p50Ms.toFixed(2)} p99=${result.p99Ms.toFixed(2)}`,
  );
  const pids = stack.pids();
  // A graceful stop, so that every process writes its profile (kill -9 would not).
  for (const replica of stack.commandLog.replicas) await replica.process?.stop('SIGTERM');
  await stack.crdt.replica('c1').process?.stop('SIGTERM');
  await stack.stop();
  for (const file of readdirSync(out).filter((f) => f.endsWith('.cpuprofile'))) {
    const pid = Number(/^CPU\.\d+\.\d+\.(\d+)\./.exec(file)?.[1]);
    const name = Object.entries(pids).find(([, p]) => p === pid)?.[0] ?? file;
    console.log(`\n== ${name} (${file})\n${hottest(join(out, file), window)}`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
