import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { CrdtCluster } from '../support/crdt-cluster';
import { waitFor } from '../support/wait';

jest.setTimeout(120_000);

/** The embedded default: crdt replicas replicating over direct TCP, no NATS. */
describe('crdt: direct replication and local durability (real processes)', () => {
  let cluster: CrdtCluster;
  afterEach(async () => cluster?.stop());

  const value = async (id: string) =>
    ((await cluster.call(id, 'GET', '/v1/counters/hits')).json as { value: number }).value;

  it('replicates over direct TCP and converges after a replica is killed and restarted', async () => {
    cluster = await CrdtCluster.create(3, (i, ports) => ({
      PARLEY_CRDT_PEERS: ports
        .filter((_, j) => j !== i)
        .map((p) => `127.0.0.1:${p.peerPort}`)
        .join(','),
    }));
    let sum = 0;
    for (let i = 0; i < 30; i += 1) {
      const id = `c${(i % 3) + 1}`;
      const { status } = await cluster.call(id, 'POST', '/v1/counters/hits/increment', {
        delta: i,
      });
      if (status === 202) sum += i;
    }
    await waitFor('all replicas to count every hit', async () =>
      (await Promise.all(['c1', 'c2', 'c3'].map(value))).every((v) => v === sum) ? true : undefined,
    );

    // Writes while c3 is down reach it through anti-entropy when it is back.
    await cluster.kill('c3');
    for (let i = 0; i < 10; i += 1)
      if (
        (await cluster.call('c1', 'POST', '/v1/counters/hits/increment', { delta: 1 })).status ===
        202
      )
        sum += 1;
    await cluster.start('c3');
    await waitFor('c3 to catch up', async () => ((await value('c3')) === sum ? true : undefined));
  });

  it('keeps every acknowledged write through kill -9, and cuts a torn log tail on restart', async () => {
    cluster = await CrdtCluster.create(1, () => ({}));
    let sum = 0;
    await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const { status } = await cluster.call('c1', 'POST', '/v1/counters/hits/increment', {
          delta: i + 1,
        });
        if (status === 202) sum += i + 1;
      }),
    );
    await cluster.call('c1', 'POST', '/v1/sets/s/elements', { element: 'kept' });
    await cluster.kill('c1');
    // A record half-written when the power went: a length that promises more than is there.
    appendFileSync(
      join(cluster.dataDir, 'c1', 'crdt', 'deltas.log'),
      Buffer.from([0, 0, 1, 0, 9, 9]),
    );
    await cluster.start('c1');
    expect(await value('c1')).toBe(sum);
    expect((await cluster.call('c1', 'GET', '/v1/sets/s')).json).toEqual({
      name: 's',
      elements: ['kept'],
    });
    expect(cluster.replica('c1').process!.stderr + cluster.replica('c1').process!.stdout).toMatch(
      /delta log tail torn or corrupt: truncated at byte \d+/,
    );
  });

  it('answers 400 naming the problem for bad input, and nothing is written', async () => {
    cluster = await CrdtCluster.create(1, () => ({}));
    const bad = [
      await cluster.call('c1', 'POST', '/v1/counters/hits/increment', { delta: 1.5 }),
      await cluster.call('c1', 'POST', '/v1/counters/hits/increment', {}),
      await cluster.call('c1', 'POST', '/v1/sets/s/elements', { element: '' }),
      await cluster.call('c1', 'PUT', '/v1/flags/f', {}),
      await cluster.call('c1', 'POST', '/v1/counters/bad%20name/increment', { delta: 1 }),
    ];
    expect(bad.map((r) => r.status)).toEqual([400, 400, 400, 400, 400]);
    expect((bad[0].json as { message: string }).message).toMatch(/delta must be an integer/);
    expect(await value('c1')).toBe(0);
  });
});
