import { appendFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CommandLogCluster } from '../support/command-log-cluster';
import { waitFor } from '../support/wait';

jest.setTimeout(180_000);

describe('command-log recovery on real processes', () => {
  let cluster: CommandLogCluster;
  afterEach(async () => cluster?.stop());

  it('a follower that was down while the log was compacted catches up through InstallSnapshot', async () => {
    cluster = await CommandLogCluster.create(3, {
      PARLEY_SNAPSHOT_EVERY_ENTRIES: '50',
      PARLEY_COMPACTION_TAIL_ENTRIES: '0',
    });
    const leader = await cluster.waitForLeader();
    const laggard = cluster.replicas.find((r) => r.id !== leader)!.id;
    await cluster.kill(laggard);
    for (let i = 0; i < 300; i += 10) {
      await Promise.all(
        Array.from({ length: 10 }, (_, j) =>
          cluster.propose({
            type: 'kv.put',
            requestId: `w${i + j}`,
            key: `k${i + j}`,
            value: `v${i + j}`,
          }),
        ),
      );
    }
    const leaderStatus = (await cluster.status(await cluster.waitForLeader()))!;
    expect(leaderStatus.firstIndex).toBeGreaterThan(200); // the leader's log no longer starts at 1
    cluster.start(laggard);
    const caughtUp = await waitFor(
      'the laggard to catch up',
      async () => {
        const status = await cluster.status(laggard);
        return status && status.appliedIndex >= leaderStatus.commitIndex ? status : undefined;
      },
      { timeoutMs: 60_000 },
    );
    expect(caughtUp.snapshotsInstalled).toBeGreaterThanOrEqual(1);
    expect(await cluster.query({ type: 'kv.get', key: 'k299' }, 'stale', laggard)).toMatchObject({
      found: true,
      value: { value: 'v299' },
    });
  });

  it('refills the watch ring from the WAL at a restart: the newest entries, with the events they decided', async () => {
    cluster = await CommandLogCluster.create(1, { PARLEY_WATCH_RING_EVENTS_MAX: '100' });
    await cluster.waitForLeader();
    const answered = new Map<number, Record<string, unknown>>();
    for (let i = 0; i < 250; i += 10) {
      const outcomes = await Promise.all(
        Array.from({ length: 10 }, (_, j) =>
          cluster.propose({
            type: 'kv.put',
            requestId: `r${i + j}`,
            key: `k${(i + j) % 7}`,
            value: `v${i + j}`,
          }),
        ),
      );
      for (const { index, result } of outcomes) answered.set(index, result.result);
    }
    const commit = (await cluster.status('n1'))!.commitIndex;
    await cluster.kill('n1');
    cluster.start('n1');
    await cluster.waitForLeader();
    await waitFor(
      'the replay',
      async () => ((await cluster.status('n1'))?.appliedIndex ?? 0) >= commit,
    );

    type Watch = {
      status: string;
      compactedIndex?: number;
      events?: { index: number; result: Record<string, unknown> }[];
    };
    const gone = await cluster.rpc<Watch>('n1', 'command-log.watch', { afterIndex: 0 });
    expect(gone.status).toBe('compacted');
    // The ring holds at least the newest 100 entries the replay applied...
    expect(gone.compactedIndex).toBeLessThanOrEqual(commit - 100);
    const read = await cluster.rpc<Watch>('n1', 'command-log.watch', {
      afterIndex: gone.compactedIndex,
      eventsMax: 1000,
    });
    expect(read.status).toBe('ok');
    // ...and every write among them decided, after the restart, what it answered before it.
    const expected = [...answered].filter(([index]) => index > gone.compactedIndex!);
    expect(expected.length).toBeGreaterThan(90);
    const events = new Map(read.events!.map((event) => [event.index, event.result]));
    for (const [index, { status, ...body }] of expected) {
      expect(status).toBe('ok');
      // The event holds the REST answer's body: the result without its status.
      expect(events.get(index)).toEqual(body);
    }
  });

  it('truncates a torn last WAL record on restart and rejoins', async () => {
    cluster = await CommandLogCluster.create(3);
    const leader = await cluster.waitForLeader();
    for (let i = 0; i < 20; i += 1)
      await cluster.propose({ type: 'kv.put', requestId: `t${i}`, key: 'k', value: `v${i}` });
    const victim = cluster.replicas.find((r) => r.id !== leader)!.id;
    await cluster.kill(victim);
    const walDir = join(cluster.dataOf(victim), 'wal');
    const last = readdirSync(walDir)
      .filter((f) => f.endsWith('.wal'))
      .sort()
      .pop()!;
    // Half a record: a length header promising more bytes than were written.
    appendFileSync(join(walDir, last), Buffer.from([0, 0, 1, 0, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3]));
    cluster.start(victim);
    const status = await waitFor('the victim to come back', () => cluster.status(victim));
    expect(status.walTruncated).toMatchObject({ segment: last });
    await cluster.propose({ type: 'kv.put', requestId: 'after', key: 'k', value: 'after' });
    await waitFor('the victim to apply new writes', async () => {
      const result = (await cluster.query({ type: 'kv.get', key: 'k' }, 'stale', victim)) as {
        value?: { value: string };
      };
      return result.value?.value === 'after' ? true : undefined;
    });
  });

  it('never oversells or overspends under concurrent retried requests and a leader kill', async () => {
    cluster = await CommandLogCluster.create(3);
    await cluster.propose({
      type: 'inventory.restock',
      requestId: 'stock',
      sku: 'sku-1',
      quantity: 100,
    });
    await cluster.propose({ type: 'budget.set', requestId: 'budget', campaign: 'c-1', limit: 500 });
    const accepted: { orderId: string; quantity: number }[] = [];
    let spentAccepted = 0;
    const client = async (c: number) => {
      for (let i = 0; i < 12; i += 1) {
        const quantity = 1 + ((c + i) % 3);
        const reservation = await cluster.propose({
          type: 'inventory.reserve',
          requestId: `res-${c}-${i}`,
          sku: 'sku-1',
          orderId: `o-${c}-${i}`,
          quantity,
        });
        if (reservation.result.result.status === 'accepted')
          accepted.push({ orderId: `o-${c}-${i}`, quantity });
        const amount = 5 + ((c * 7 + i) % 11);
        const spend = await cluster.propose({
          type: 'budget.spend',
          requestId: `bid-${c}-${i}`,
          campaign: 'c-1',
          bidId: `b-${c}-${i}`,
          amount,
        });
        if (spend.result.result.status === 'accepted') spentAccepted += amount;
      }
    };
    const clients = Array.from({ length: 8 }, (_, c) => client(c));
    const killer = (async () => {
      await waitFor('some reservations', () => (accepted.length >= 10 ? true : undefined));
      await cluster.kill(await cluster.waitForLeader());
    })();
    await Promise.all([...clients, killer]);
    const reserved = accepted.reduce((sum, r) => sum + r.quantity, 0);
    const inventory = (await cluster.query({ type: 'inventory.get', sku: 'sku-1' })) as {
      value: { available: number; reserved: number };
    };
    expect(inventory.value.available).toBeGreaterThanOrEqual(0);
    expect(inventory.value.reserved).toBe(reserved);
    expect(inventory.value.available + inventory.value.reserved).toBe(100);
    const budget = (await cluster.query({ type: 'budget.get', campaign: 'c-1' })) as {
      value: { spent: number; limit: number };
    };
    expect(budget.value.spent).toBe(spentAccepted);
    expect(budget.value.spent).toBeLessThanOrEqual(500);
  });
});
