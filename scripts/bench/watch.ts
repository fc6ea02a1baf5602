/**
 * Watch benchmark (npm run bench:watch): three command-log replicas (fsync on) and one
 * decision-api, each its own process on loopback; 64 clients write KV keys while 1, 100 and
 * 1,000 watchers follow GET /v1/watch. Prints, for sampled watchers, how long after a write's
 * acknowledgement (and after it was sent) its event arrived: p50/p99. Prints, never asserts.
 */
import { request } from 'node:http';
import { percentile } from '@parley/common';
import { closedLoop, formatLoad } from './load';
import { BENCH_AGENT_KEY, ParleyStack } from './suite/parley-stack';

const LEVELS = [1, 100, 1_000];
const WRITERS = 64;
const COUNT = Number(process.env.BENCH_REQUESTS ?? 3_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
/** Watchers whose events are parsed and timed; the others only read their bytes. */
const SAMPLED_MAX = 10;

/** One watch stream; a sampled one notes when each requestId's event arrived. */
function openWatcher(
  port: number,
  onEvent: ((requestId: string, atMs: number) => void) | undefined,
): Promise<() => void> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      path: '/v1/watch',
      headers: { authorization: `Bearer ${BENCH_AGENT_KEY}` },
      agent: false,
    });
    req.on('response', (response) => {
      if (response.statusCode !== 200) return reject(new Error(`watch ${response.statusCode}`));
      response.setEncoding('utf8');
      let buffer = '';
      response.on('data', (chunk: string) => {
        if (!onEvent) return;
        const atMs = performance.now();
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = frame.split('\n').find((line) => line.startsWith('data: '));
          if (data && frame.startsWith('event: decision'))
            onEvent((JSON.parse(data.slice(6)) as { requestId: string }).requestId, atMs);
        }
      });
      response.on('error', () => undefined);
      resolve(() => req.destroy());
    });
    req.on('error', reject);
    req.end();
  });
}

const fmt = (values: number[], q: number) => (percentile(values, q) ?? NaN).toFixed(2);

async function main(): Promise<void> {
  const stack = await ParleyStack.start(3, { api: { PARLEY_WATCH_WATCHERS_MAX: '2000' } });
  const port = Number(new URL(stack.apiUrl).port);
  try {
    console.log(
      `watch bench: ${WRITERS} writers (KV puts, 3 replicas with fsync), ≤${COUNT} writes or ${SECONDS}s per level; delay = event arrival at a watcher minus the write's acknowledgement (and minus its sending), over ≤${SAMPLED_MAX} sampled watchers`,
    );
    for (const watchers of LEVELS) {
      const sentAt = new Map<string, number>();
      const ackedAt = new Map<string, number>();
      const arrivals: Map<string, number>[] = [];
      const closers: (() => void)[] = [];
      const every = Math.max(1, Math.floor(watchers / SAMPLED_MAX));
      for (let w = 0; w < watchers; w += 1) {
        const sampled = w % every === 0 && arrivals.length < SAMPLED_MAX;
        const seen = new Map<string, number>();
        if (sampled) arrivals.push(seen);
        closers.push(await openWatcher(port, sampled ? (id, at) => seen.set(id, at) : undefined));
      }
      const run = `${Date.now()}-${watchers}`;
      const load = await closedLoop(WRITERS, COUNT, SECONDS, async (n) => {
        const requestId = `w-${run}-${n}`;
        sentAt.set(requestId, performance.now());
        const response = await fetch(`${stack.apiUrl}/v1/kv/bench-${n % 64}`, {
          method: 'PUT',
          headers: { ...stack.headers(), 'content-type': 'application/json' },
          body: JSON.stringify({ requestId, value: `${n}` }),
        });
        await response.arrayBuffer();
        if (response.status !== 200) return false;
        ackedAt.set(requestId, performance.now());
        return true;
      });
      // Let the last events arrive (bounded), then measure.
      const deadline = Date.now() + 30_000;
      while (
        Date.now() < deadline &&
        arrivals.some((seen) => [...ackedAt.keys()].some((id) => !seen.has(id)))
      )
        await new Promise((resolve) => setTimeout(resolve, 100));
      const fromAck: number[] = [];
      const fromSend: number[] = [];
      let missing = 0;
      for (const seen of arrivals)
        for (const [id, acked] of ackedAt) {
          const at = seen.get(id);
          if (at === undefined) missing += 1;
          else {
            fromAck.push(at - acked);
            fromSend.push(at - sentAt.get(id)!);
          }
        }
      fromAck.sort((a, b) => a - b);
      fromSend.sort((a, b) => a - b);
      for (const close of closers) close();
      console.log(
        formatLoad(`writes with ${String(watchers).padStart(4)} watchers:`, WRITERS, load),
      );
      console.log(
        `  event after ack p50=${fmt(fromAck, 0.5)}ms p99=${fmt(fromAck, 0.99)}ms; after send p50=${fmt(fromSend, 0.5)}ms p99=${fmt(fromSend, 0.99)}ms; ${arrivals.length} sampled watchers, ${missing} events not seen within 30 s`,
      );
    }
  } finally {
    await stack.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
