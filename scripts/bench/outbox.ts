/**
 * The outbox of `Prefer: respond-async` (npm run bench:outbox): three command-log replicas (fsync
 * on) and one decision-api with its outbox (fsync on), which reaches the replicas through
 * loopback proxies the benchmark can cut. Two phases, each printed, never asserted:
 *
 * - with a leader: `clients` closed-loop writers send respond-async PUTs; the 202 rate and
 *   latency (an fdatasync per group of accepts), then how long until the outbox is empty;
 * - buffered: the proxies are cut (no leader reachable), the same load fills the outbox, the
 *   proxies are healed and the drain is timed from the heal to an empty outbox: the drain rate.
 *
 * Writes go to `keys` keys: buffered writes of one key are proposed one after another (in
 * order per entity), so fewer keys drain slower; `--keys 1` shows the sequential floor.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AppProcess, waitForHttp } from '../../test/support/app-process';
import { FaultProxy } from '../../test/support/chaos/fault-proxy';
import { CLUSTER_SECRET, CommandLogCluster } from '../../test/support/command-log-cluster';
import { freePort } from '../../test/support/ports';
import { waitFor } from '../../test/support/wait';
import { BENCH_AGENT_KEY } from './suite/parley-stack';
import { httpLoad } from './suite/http-load';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '64' },
    requests: { type: 'string', default: '5000' },
    keys: { type: 'string', default: '1000,1' },
    /** false: the outbox does not fdatasync (to see what the disk costs). */
    fsync: { type: 'string', default: 'true' },
  },
});

async function depth(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('parley_outbox_depth '));
  return Number(line?.split(' ')[1] ?? NaN);
}

async function main(): Promise<void> {
  const clients = Number(values.clients);
  const requests = Number(values.requests);
  const holder: { cluster?: CommandLogCluster } = {};
  const ids = ['n1', 'n2', 'n3'];
  const links = new Map<string, FaultProxy>();
  for (const id of ids)
    links.set(id, await FaultProxy.start(() => holder.cluster!.replica(id).rpcPort));
  const cluster = await CommandLogCluster.create(3, { PARLEY_LOG_LEVEL: 'error' });
  holder.cluster = cluster;
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-outbox-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const api = AppProcess.start('decision-api', {
    PARLEY_HTTP_PORT: String(port),
    PARLEY_API_KEYS: `agent:${BENCH_AGENT_KEY}`,
    PARLEY_RPC_SECRET: CLUSTER_SECRET,
    PARLEY_COMMAND_LOG_NODES: ids.map((id) => `127.0.0.1:${links.get(id)!.port}`).join(','),
    PARLEY_RATE_LIMIT_PER_SECOND: '1000000',
    PARLEY_LOG_LEVEL: 'error',
    PARLEY_OUTBOX_DIR: dir,
    PARLEY_OUTBOX_FSYNC: values.fsync!,
    PARLEY_OUTBOX_RETRY_MAX_MS: '500',
  });
  try {
    await cluster.waitForLeader();
    await waitForHttp(`${url}/health/ready`, 200, 60_000);
    const run = Date.now();
    const load = (keys: number, phase: string, prefer = 'respond-async') =>
      httpLoad({
        url,
        clients,
        requests,
        seconds: 300,
        accept: (status) => status === (prefer ? 202 : 200),
        request: (n) => ({
          method: 'PUT',
          path: `/v1/kv/outbox-${keys}-${((n % keys) + keys) % keys}`,
          headers: { authorization: `Bearer ${BENCH_AGENT_KEY}`, ...(prefer ? { prefer } : {}) },
          body: JSON.stringify({
            requestId: `ob-${run}-${phase}-${keys}-${n}`,
            value: 'x'.repeat(100),
          }),
        }),
      });
    const drained = async () => {
      const started = performance.now();
      await waitFor('an empty outbox', async () => ((await depth(url)) === 0 ? true : undefined), {
        timeoutMs: 600_000,
        intervalMs: 20,
      });
      return (performance.now() - started) / 1000;
    };
    console.log(
      `outbox: ${clients} clients, ${requests} respond-async PUTs per phase, outbox fsync ${values.fsync}`,
    );
    // The same PUTs answered synchronously, in the same conditions, to compare with.
    const sync = await load(1000, 'sync', '');
    console.log(
      `synchronous PUTs for comparison: ${Math.round(sync.perSecond)}/s ` +
        `(p50 ${sync.p50Ms.toFixed(1)} ms, p99 ${sync.p99Ms.toFixed(1)} ms, failed ${sync.failed})`,
    );
    for (const keys of values.keys!.split(',').map(Number)) {
      const live = await load(keys, 'live');
      const tail = await drained();
      console.log(
        `keys ${keys}  with a leader: 202s ${Math.round(live.perSecond)}/s ` +
          `(p50 ${live.p50Ms.toFixed(1)} ms, p99 ${live.p99Ms.toFixed(1)} ms, failed ${live.failed}), ` +
          `empty ${tail.toFixed(2)} s after the last 202` +
          (live.firstFailure ? `  first failure: ${live.firstFailure}` : ''),
      );
      for (const link of links.values()) link.setCut(true);
      const buffered = await load(keys, 'buffered');
      const held = await depth(url);
      for (const link of links.values()) link.setCut(false);
      const seconds = await drained();
      console.log(
        `keys ${keys}  buffered: 202s ${Math.round(buffered.perSecond)}/s ` +
          `(p50 ${buffered.p50Ms.toFixed(1)} ms, p99 ${buffered.p99Ms.toFixed(1)} ms), ` +
          `${held} held; drained in ${seconds.toFixed(2)} s after healing: ` +
          `${Math.round(held / seconds)} requests/s`,
      );
    }
  } finally {
    await api.stop();
    await cluster.stop();
    for (const link of links.values()) await link.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
