import { randomBytes } from 'node:crypto';
import { CrdtCluster } from '../support/crdt-cluster';
import { freePort } from '../support/ports';
import { TcpProxy } from '../support/tcp-proxy';
import { waitFor } from '../support/wait';

jest.setTimeout(120_000);

const natsUrl = new URL(process.env.NATS_URL ?? 'nats://127.0.0.1:4222');

/**
 * Three crdt replicas over the real nats-server; c3 reaches NATS through a proxy the test cuts
 * and heals. Concurrent writes everywhere, writes on both sides of the cut, then convergence to
 * the same, correct values.
 */
describe('crdt: three replicas over NATS, one cut off and healed', () => {
  let cluster: CrdtCluster;
  let proxy: TcpProxy;
  afterAll(async () => {
    await cluster?.stop();
    await proxy?.stop();
  });

  it('converges after the cut heals: counters exact, sets and flags identical', async () => {
    proxy = await TcpProxy.start(await freePort(), {
      host: natsUrl.hostname,
      port: Number(natsUrl.port || 4222),
    });
    const clusterId = `crdt-${randomBytes(4).toString('hex')}`;
    cluster = await CrdtCluster.create(3, (i) => ({
      PARLEY_CLUSTER_ID: clusterId,
      PARLEY_NATS_URL: i === 2 ? `nats://127.0.0.1:${proxy.port}` : natsUrl.toString(),
    }));
    const ids = ['c1', 'c2', 'c3'];
    let acknowledgedSum = 0;
    const addedOnly = new Set<string>();
    const flagsWritten = new Set<string>();

    const writeWave = async (replicas: string[], wave: string) => {
      await Promise.all(
        replicas.flatMap((id, r) =>
          Array.from({ length: 20 }, async (_, i) => {
            const delta = ((i * 7 + r * 3) % 11) - 4;
            const inc = await cluster.call(id, 'POST', '/v1/counters/stock/increment', { delta });
            if (inc.status === 202) acknowledgedSum += delta;
            const element = `${wave}-${id}-${i}`;
            if (
              (await cluster.call(id, 'POST', '/v1/sets/bidders/elements', { element })).status ===
              202
            )
              if (i % 4 !== 0) addedOnly.add(element);
            if (i % 4 === 0)
              await cluster.call(id, 'DELETE', `/v1/sets/bidders/elements/${element}`);
            const flag = `${wave}-${id}-${i}`;
            if ((await cluster.call(id, 'PUT', '/v1/flags/mode', { value: flag })).status === 202)
              flagsWritten.add(flag);
          }),
        ),
      );
    };

    const converged = async () => {
      const views = await Promise.all(
        ids.map(async (id) => ({
          counter: (await cluster.call(id, 'GET', '/v1/counters/stock')).json as { value: number },
          set: (await cluster.call(id, 'GET', '/v1/sets/bidders')).json as { elements: string[] },
          flag: (await cluster.call(id, 'GET', '/v1/flags/mode')).json as { value: string },
        })),
      );
      const same = views.every((v) => JSON.stringify(v) === JSON.stringify(views[0]));
      return same && views[0].counter.value === acknowledgedSum ? views[0] : undefined;
    };

    await writeWave(ids, 'before');
    await waitFor('the three replicas to converge', converged, {
      timeoutMs: 30_000,
      intervalMs: 100,
    });

    await proxy.cut();
    await writeWave(['c1', 'c2'], 'majority');
    await writeWave(['c3'], 'isolated');
    // Cut off, c3 keeps accepting writes but cannot see the others' (nor they its).
    const isolated = (await cluster.call('c3', 'GET', '/v1/counters/stock')).json as {
      value: number;
    };
    const majority = (await cluster.call('c1', 'GET', '/v1/counters/stock')).json as {
      value: number;
    };
    expect(isolated.value).not.toBe(majority.value);

    await proxy.heal();
    const healedAt = Date.now();
    const final = await waitFor('convergence after the heal', converged, {
      timeoutMs: 60_000,
      intervalMs: 100,
    });
    const convergenceMs = Date.now() - healedAt;
    expect(final.counter.value).toBe(acknowledgedSum);
    for (const element of addedOnly) expect(final.set.elements).toContain(element);
    expect(flagsWritten.has(final.flag.value)).toBe(true);
    // Anti-entropy answered with deltas ("only what the other lacks"), not just full states.
    const statuses = await Promise.all(ids.map((id) => cluster.call(id, 'GET', '/v1/crdt/status')));
    const deltasSent = statuses
      .map((s) => (s.json as { counters: { antiEntropyDeltasSent: number } }).counters)
      .reduce((sum, c) => sum + c.antiEntropyDeltasSent, 0);
    expect(deltasSent).toBeGreaterThan(0);
    process.stdout.write(`crdt convergence after heal: ${convergenceMs} ms\n`);
  });
});
