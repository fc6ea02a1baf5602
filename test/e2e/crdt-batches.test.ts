import { CrdtCluster } from '../support/crdt-cluster';

jest.setTimeout(120_000);

/**
 * POST /v1/crdt/batches: a source partition's offset range is applied once, and the replica
 * remembers what it applied across a kill -9 (in its log) and a snapshot (on shutdown), so a
 * Kafka consumer that delivers a range again after a restart adds nothing.
 */
describe('crdt: batches of writes applied once per source offset range (real processes)', () => {
  let cluster: CrdtCluster;
  afterEach(async () => cluster?.stop());

  const counter = async () =>
    ((await cluster.call('c1', 'GET', '/v1/counters/events')).json as { value: number }).value;
  const set = async () =>
    ((await cluster.call('c1', 'GET', '/v1/sets/seen')).json as { elements: string[] }).elements;
  const batch = (from: number, through: number, delta: number) => ({
    source: 'agent-events/0',
    from,
    through,
    writes: [
      { op: 'increment', name: 'events', delta },
      { op: 'set-add', name: 'seen', element: `at-${from}` },
    ],
  });

  it('skips a range it holds, after a kill -9 and after a restart from its snapshot', async () => {
    cluster = await CrdtCluster.create(1, () => ({}));
    const post = (body: unknown) => cluster.call('c1', 'POST', '/v1/crdt/batches', body);

    expect(await post(batch(0, 9, 5))).toEqual({
      status: 200,
      json: { applied: true, through: 9 },
    });
    expect(await post(batch(0, 9, 5))).toEqual({
      status: 200,
      json: { applied: false, through: 9 },
    });
    expect(await counter()).toBe(5);

    // Killed: the range is in the log with its deltas.
    await cluster.kill('c1');
    await cluster.start('c1');
    expect((await post(batch(0, 9, 5))).json).toEqual({ applied: false, through: 9 });
    // A range cut differently, overlapping what is held: refused with the last offset held.
    expect(await post(batch(5, 14, 7))).toEqual({
      status: 409,
      json: { overlap: true, through: 9 },
    });
    expect(await post(batch(10, 14, 7))).toEqual({
      status: 200,
      json: { applied: true, through: 14 },
    });
    expect(await counter()).toBe(12);

    // Stopped cleanly: the snapshot (format 2) carries the offsets held.
    await cluster.replica('c1').process?.stop('SIGTERM');
    await cluster.start('c1');
    expect((await post(batch(10, 14, 7))).json).toEqual({ applied: false, through: 14 });
    expect(await counter()).toBe(12);
    expect((await set()).sort()).toEqual(['at-0', 'at-10']);
  });

  it('refuses an invalid write, or one beyond the object bound, by index, applying nothing', async () => {
    cluster = await CrdtCluster.create(1, () => ({ PARLEY_CRDT_OBJECTS_MAX: '2' }));
    const post = (body: unknown) => cluster.call('c1', 'POST', '/v1/crdt/batches', body);
    const invalid = {
      source: 'agent-events/1',
      from: 0,
      through: 1,
      writes: [
        { op: 'increment', name: 'events', delta: 1 },
        { op: 'increment', name: 'events', delta: 'many' },
      ],
    };
    expect(await post(invalid)).toEqual({
      status: 400,
      json: { refused: true, index: 1, reason: 'delta must be an integer between -1e12 and 1e12' },
    });
    const tooMany = {
      source: 'agent-events/1',
      from: 0,
      through: 2,
      writes: ['a', 'b', 'c'].map((name) => ({ op: 'increment', name, delta: 1 })),
    };
    expect(await post(tooMany)).toMatchObject({ status: 507, json: { refused: true, index: 2 } });
    expect(await counter()).toBe(0);
    // Nothing of the refused batches was held: the range still applies.
    expect((await post({ ...tooMany, writes: tooMany.writes.slice(0, 2) })).json).toEqual({
      applied: true,
      through: 2,
    });
  });

  it('POST /v1/crdt/writes answers each write (202, 400, 507) and its 202s outlive a kill -9', async () => {
    cluster = await CrdtCluster.create(1, () => ({ PARLEY_CRDT_OBJECTS_MAX: '2' }));
    const post = (body: unknown) => cluster.call('c1', 'POST', '/v1/crdt/writes', body);
    const increment = (name: string, delta = 1) => ({ op: 'increment', name, delta });
    expect(
      await post({
        writes: [
          increment('events'),
          increment('other'),
          increment('third'),
          increment('events', 4),
          increment('bad name'),
        ],
      }),
    ).toEqual({
      status: 200,
      json: {
        answers: [
          { status: 202 },
          { status: 202 },
          { status: 507, message: 'this replica holds 2 objects already' },
          { status: 202 },
          { status: 400, message: expect.stringMatching(/^name must be 1-128 characters/) },
        ],
      },
    });
    expect(await post({ writes: 'many' })).toMatchObject({ status: 400 });
    await cluster.kill('c1');
    await cluster.start('c1');
    // The log record of REST writes carries no source offset; it replays all the same.
    expect(await counter()).toBe(5);
  });
});
