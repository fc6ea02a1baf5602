/**
 * The fast lane against Express, side by side in one run (npm run bench:fast-lane): one Parley
 * stack (three command-log replicas with fsync, one crdt replica) and two decision-api processes
 * in front of it, one with PARLEY_HTTP_FAST_LANE=true and one with false, loaded in turn with
 * the same PUT /v1/kv/{key} and POST /v1/counters/{name}/increment workloads. Alternates the
 * two for each level so that a slow moment of the machine does not favour either. Prints figures.
 */
import { parseArgs } from 'node:util';
import { AppProcess, waitForHttp } from '../../test/support/app-process';
import { freePort } from '../../test/support/ports';
import { HttpCall, httpLoad } from './suite/http-load';
import { ParleyStack } from './suite/parley-stack';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '1,64' },
    requests: { type: 'string', default: '5000' },
    rounds: { type: 'string', default: '2' },
  },
});

async function main(): Promise<void> {
  const stack = await ParleyStack.start(3, { api: { PARLEY_HTTP_FAST_LANE: 'true' } });
  const port = await freePort();
  const express = AppProcess.start('decision-api', {
    ...stack.apiEnv,
    PARLEY_HTTP_PORT: String(port),
    PARLEY_HTTP_FAST_LANE: 'false',
  });
  const expressUrl = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${expressUrl}/health/ready`, 200, 60_000);
    const run = Date.now();
    const workloads: Record<string, (n: number) => HttpCall> = {
      'PUT /v1/kv': (n) => ({
        method: 'PUT',
        path: `/v1/kv/lane-${(n + 1000) % 1000}`,
        headers: stack.headers(),
        body: JSON.stringify({
          requestId: `lane-${run}-${n}-${Math.random()}`,
          value: 'x'.repeat(100),
        }),
      }),
      'POST increment': () => ({
        method: 'POST',
        path: '/v1/counters/lane/increment',
        headers: stack.headers(),
        body: '{"delta":1}',
      }),
    };
    for (const clients of values.clients!.split(',').map(Number))
      for (const [name, request] of Object.entries(workloads))
        for (let round = 0; round < Number(values.rounds); round++)
          for (const [lane, url] of [
            ['fast lane', stack.apiUrl],
            ['express  ', expressUrl],
          ]) {
            const r = await httpLoad({
              url,
              clients,
              requests: Number(values.requests),
              seconds: 60,
              warmup: Math.max(200, 4 * clients),
              request,
            });
            console.log(
              `${name.padEnd(15)} ${lane} clients=${String(clients).padStart(3)} ok=${r.ok} failed=${r.failed} ` +
                `${Math.round(r.perSecond)}/s p50=${r.p50Ms.toFixed(2)}ms p99=${r.p99Ms.toFixed(2)}ms` +
                (r.firstFailure ? ` first failure: ${r.firstFailure}` : ''),
            );
          }
  } finally {
    await express.stop();
    await stack.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
