/**
 * decision-api's HTTP platforms side by side in one run (npm run bench:http-platforms): one
 * Parley stack (three command-log replicas with fsync, one crdt replica) and three
 * decision-api processes in front of it — Express with the fast lane, Express without it, and
 * Fastify — loaded in turn by wrk with strong PUT /v1/kv/{key} and POST
 * /v1/inventory/{sku}/reservations, every request with its own requestId. The variants are
 * interleaved (A B C A B C …) so a slow moment of the shared machine hits each alike. For each
 * run: throughput, p50/p99/p99.9, and server CPU per request (utime+stime from /proc of
 * decision-api, and of the whole stack serving it, before and after, divided by requests).
 * Prints figures, never asserts them.
 */
import { parseArgs } from 'node:util';
import { AppProcess, waitForHttp } from '../../test/support/app-process';
import { freePort } from '../../test/support/ports';
import { ParleyStack } from './suite/parley-stack';
import { cpuDuring, totalOf } from './suite/process-cpu';
import { WrkResult, WrkWorkload, wrkLoad } from './suite/wrk-load';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '64' },
    seconds: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '2' },
  },
});

const VARIANTS = {
  'express+lane': { PARLEY_HTTP_PLATFORM: 'express', PARLEY_HTTP_FAST_LANE: 'true' },
  express: { PARLEY_HTTP_PLATFORM: 'express', PARLEY_HTTP_FAST_LANE: 'false' },
  fastify: { PARLEY_HTTP_PLATFORM: 'fastify', PARLEY_HTTP_FAST_LANE: 'false' },
} as const;
type Variant = keyof typeof VARIANTS;

const SKUS = 100;

interface Run extends WrkResult {
  variant: Variant;
  workload: string;
  round: number;
  apiCpuUsPerRequest: number;
  stackCpuUsPerRequest: number;
}

async function main(): Promise<void> {
  const clients = Number(values.clients);
  const seconds = Number(values.seconds);
  const stack = await ParleyStack.start(3, { api: VARIANTS['express+lane'] });
  const apis: Record<Variant, { url: string; pid: number }> = {
    'express+lane': { url: stack.apiUrl, pid: stack.api.child.pid! },
  } as never;
  const started: AppProcess[] = [];
  try {
    for (const variant of ['express', 'fastify'] as const) {
      const port = await freePort();
      const api = AppProcess.start('decision-api', {
        ...stack.apiEnv,
        ...VARIANTS[variant],
        PARLEY_HTTP_PORT: String(port),
      });
      started.push(api);
      apis[variant] = { url: `http://127.0.0.1:${port}`, pid: api.child.pid! };
      await waitForHttp(`${apis[variant].url}/health/ready`, 200, 60_000);
    }
    // Enough stock that no reservation of the run is refused for want of it.
    for (let sku = 0; sku < SKUS; sku++) {
      const answer = await fetch(`${stack.apiUrl}/v1/inventory/bench-${sku}/restock`, {
        method: 'POST',
        headers: { ...stack.headers(), 'content-type': 'application/json' },
        body: JSON.stringify({ requestId: `restock-${Date.now()}-${sku}`, quantity: 100_000_000 }),
      });
      if (!answer.ok) throw new Error(`restock answered ${answer.status}`);
    }
    const headers = stack.headers();
    const workloads: Record<string, WrkWorkload> = {
      'PUT /v1/kv': {
        method: 'PUT',
        path: '/v1/kv/bench-{k}',
        body: `{"requestId":"{n}","value":"${'x'.repeat(100)}"}`,
        headers,
      },
      'POST reserve': {
        method: 'POST',
        path: '/v1/inventory/bench-{k}/reservations',
        body: '{"requestId":"{n}","orderId":"o-{n}","quantity":1}',
        headers,
        keys: SKUS,
      },
    };
    const servers = (variant: Variant) => {
      const { 'decision-api': _, ...cluster } = stack.pids();
      return { api: apis[variant].pid, ...cluster };
    };
    const runs: Run[] = [];
    for (const [name, workload] of Object.entries(workloads)) {
      for (const variant of Object.keys(VARIANTS) as Variant[])
        await wrkLoad({
          url: apis[variant].url,
          clients,
          seconds: Number(values.warmup),
          workload,
        });
      for (let round = 1; round <= Number(values.rounds); round++)
        for (const variant of Object.keys(VARIANTS) as Variant[]) {
          const { result, cpuSeconds } = await cpuDuring(servers(variant), () =>
            wrkLoad({ url: apis[variant].url, clients, seconds, workload }),
          );
          const perRequest = (cpu: number) => (cpu / Math.max(1, result.requests)) * 1e6;
          const run: Run = {
            ...result,
            variant,
            workload: name,
            round,
            apiCpuUsPerRequest: perRequest(cpuSeconds.api),
            stackCpuUsPerRequest: perRequest(totalOf(cpuSeconds)),
          };
          runs.push(run);
          console.log(
            `${name.padEnd(13)} round ${round} ${variant.padEnd(12)} ${Math.round(run.perSecond)}/s ` +
              `failed=${run.failed} p50=${run.p50Ms.toFixed(2)}ms p99=${run.p99Ms.toFixed(2)}ms ` +
              `p99.9=${run.p999Ms.toFixed(2)}ms cpu/req: api ${run.apiCpuUsPerRequest.toFixed(0)}µs ` +
              `stack ${run.stackCpuUsPerRequest.toFixed(0)}µs`,
          );
        }
    }
    console.log(`\n${summary(runs, clients, seconds)}`);
  } finally {
    for (const api of started) await api.stop();
    await stack.stop();
  }
}

/** Per workload and variant: the mean of the rounds and their spread (min–max). */
function summary(runs: Run[], clients: number, seconds: number): string {
  const spread = (xs: number[], digits: number) => {
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    return `${mean.toFixed(digits)} (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})`;
  };
  const lines = [
    `${clients} clients, ${seconds} s a run; mean of the rounds (min–max)`,
    '',
    '| workload | platform | requests/s | p50 ms | p99 ms | decision-api CPU µs/request | stack CPU µs/request |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const workload of new Set(runs.map((r) => r.workload)))
    for (const variant of Object.keys(VARIANTS) as Variant[]) {
      const mine = runs.filter((r) => r.workload === workload && r.variant === variant);
      lines.push(
        `| ${workload} | ${variant} | ${spread(
          mine.map((r) => r.perSecond),
          0,
        )} | ${spread(
          mine.map((r) => r.p50Ms),
          2,
        )} | ${spread(
          mine.map((r) => r.p99Ms),
          2,
        )} | ${spread(
          mine.map((r) => r.apiCpuUsPerRequest),
          0,
        )} | ${spread(
          mine.map((r) => r.stackCpuUsPerRequest),
          0,
        )} |`,
      );
    }
  // Paired by round (the two ran back to back), so a slow moment of the machine cancels out.
  lines.push(
    '',
    'decision-api CPU per request against Fastify in the same round, median (min–max):',
  );
  for (const workload of new Set(runs.map((r) => r.workload)))
    for (const variant of ['express+lane', 'express'] as const) {
      const ratios = runs
        .filter((r) => r.workload === workload && r.variant === variant)
        .map((r) => {
          const fastify = runs.find(
            (f) => f.workload === workload && f.variant === 'fastify' && f.round === r.round,
          )!;
          return r.apiCpuUsPerRequest / fastify.apiCpuUsPerRequest;
        })
        .sort((a, b) => a - b);
      const median = ratios[Math.floor(ratios.length / 2)];
      lines.push(
        `- ${workload}, ${variant}/fastify: ${median.toFixed(2)} (${ratios[0].toFixed(2)}–${ratios[ratios.length - 1].toFixed(2)})`,
      );
    }
  return lines.join('\n');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
