/**
 * The eventual lane against the strong one (npm run bench:eventual): the Parley stack of
 * bench:decision-api (3 command-log replicas with fsync, one crdt replica with fsync,
 * decision-api), driven by wrk (a compiled generator: the node one costs more CPU per request
 * than the servers) with strong PUTs and counter increments at 1 and 64 clients, alternating,
 * `--runs` times. With `--compare`, a second decision-api in front of the same cluster with
 * PARLEY_CRDT_BATCH_WRITES_MAX=1 and 64 calls in flight (each eventual write its own crdt
 * call over up to 64 pooled connections, as before batching)
 * is measured in the same rounds. Prints throughput, p50/p99 and the server CPU per request
 * (utime+stime of every stack process from /proc, before and after the level). Never asserts.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AppProcess, waitForHttp } from '../../test/support/app-process';
import { freePort } from '../../test/support/ports';
import { BENCH_AGENT_KEY, ParleyStack } from './suite/parley-stack';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    runs: { type: 'string', default: '2' },
    clients: { type: 'string', default: '1,64' },
    compare: { type: 'boolean', default: false },
  },
});
const SECONDS = Number(values.seconds);
const RUNS = Number(values.runs);
const LEVELS = values.clients.split(',').map(Number);
const TICKS_PER_SECOND = 100;

/** utime+stime of a process in seconds (fields 14 and 15 of /proc/<pid>/stat). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

const sumCpu = (pids: number[]) => pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);

interface WrkResult {
  requests: number;
  errors: number;
  p50: number;
  p99: number;
  seconds: number;
}

/** A wrk script: its requests, and a `done` that prints the figures as one JSON line. */
function wrkScript(method: string, pathExpr: string, bodyExpr: string): string {
  const file = join(tmpdir(), `parley-wrk-${process.pid}-${method}.lua`);
  writeFileSync(
    file,
    `local n = 0
local headers = { ["authorization"] = "Bearer ${BENCH_AGENT_KEY}", ["content-type"] = "application/json" }
local prefix = tostring(math.random(1, 1000000000))
request = function()
  n = n + 1
  return wrk.format("${method}", ${pathExpr}, headers, ${bodyExpr})
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests":%d,"errors":%d,"p50":%d,"p99":%d,"seconds":%f}\\n',
    summary.requests, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99), summary.duration / 1e6))
end
`,
  );
  return file;
}

function wrk(url: string, script: string, clients: number): WrkResult {
  const out = execFileSync(
    'wrk',
    ['-t', clients > 1 ? '2' : '1', '-c', String(clients), '-d', `${SECONDS}s`, '-s', script, url],
    { encoding: 'utf8' },
  );
  return JSON.parse(out.trim().split('\n').pop()!) as WrkResult;
}

async function main(): Promise<void> {
  const stack = await ParleyStack.start();
  const lanes: { name: string; url: string; api: AppProcess }[] = [
    { name: 'batched', url: stack.apiUrl, api: stack.api },
  ];
  let unbatched: AppProcess | undefined;
  try {
    if (values.compare) {
      const port = await freePort();
      unbatched = AppProcess.start('decision-api', {
        ...stack.apiEnv,
        PARLEY_HTTP_PORT: String(port),
        PARLEY_CRDT_BATCH_WRITES_MAX: '1',
        PARLEY_CRDT_BATCHES_IN_FLIGHT: '64',
      });
      const url = `http://127.0.0.1:${port}`;
      await waitForHttp(`${url}/health/ready`, 200, 60_000);
      lanes.push({ name: 'one call per write', url, api: unbatched });
    }
    const put = wrkScript(
      'PUT',
      '"/v1/kv/b-" .. prefix .. "-" .. n',
      `'{"requestId":"' .. prefix .. "-" .. n .. '","value":"v"}'`,
    );
    const inc = wrkScript('POST', '"/v1/counters/bench/increment"', `'{"delta":1}'`);
    const all = stack.pids();
    const serverPids = Object.entries(all)
      .filter(([name]) => name !== 'decision-api')
      .map(([, pid]) => pid);
    const crdtPid = all['crdt-c1'];
    console.log(
      `eventual lane bench: wrk, ${SECONDS}s a level, ${RUNS} runs, fsync on everywhere; CPU = utime+stime per request of decision-api, crdt and the 3 command-log processes (and of decision-api and crdt alone)`,
    );
    for (let run = 1; run <= RUNS; run += 1)
      for (const clients of LEVELS)
        for (const [label, script, lane] of [
          ['strong PUT', put, lanes[0]],
          // Every other run the other lane goes first, so neither always follows the strong load.
          ...(run % 2 ? lanes : [...lanes].reverse()).map(
            (l) => [`increment (${l.name})`, inc, l] as const,
          ),
        ] as const) {
          const pids = [lane.api.child.pid!, ...serverPids];
          const before = sumCpu(pids);
          const apiBefore = cpuSeconds(lane.api.child.pid!);
          const crdtBefore = cpuSeconds(crdtPid);
          const r = wrk(lane.url, script, clients);
          const cpu = sumCpu(pids) - before;
          const apiCpu = cpuSeconds(lane.api.child.pid!) - apiBefore;
          const crdtCpu = cpuSeconds(crdtPid) - crdtBefore;
          const ok = r.requests - r.errors;
          const perRequest = (seconds: number) => Math.round((seconds * 1e6) / Math.max(ok, 1));
          console.log(
            `run ${run} ${label.padEnd(30)} ${String(clients).padStart(3)} clients: ${Math.round(
              ok / r.seconds,
            )
              .toString()
              .padStart(
                6,
              )}/s  p50 ${(r.p50 / 1000).toFixed(2)} ms  p99 ${(r.p99 / 1000).toFixed(2)} ms  CPU ${perRequest(cpu)} µs/req (decision-api ${perRequest(apiCpu)}, crdt ${perRequest(crdtCpu)})  errors ${r.errors}`,
          );
        }
  } finally {
    await unbatched?.stop();
    await stack.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
