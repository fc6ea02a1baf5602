import { CRDT_BATCH_WRITES_MAX, CRDT_WRITES_MAX, parseCrdtBatch, parseCrdtWrites } from './batch';

describe('a crdt batch from the wire', () => {
  const batch = (writes: unknown[], extra: object = {}) => ({
    source: 'agent-events/0',
    from: 3,
    through: 9,
    writes,
    ...extra,
  });

  it('accepts the four kinds of write', () => {
    const writes = [
      { op: 'increment', name: 'c', delta: -2 },
      { op: 'set-add', name: 's', element: 'x' },
      { op: 'set-remove', name: 's', element: 'x' },
      { op: 'flag', name: 'f', value: { on: true } },
    ];
    expect(parseCrdtBatch(batch(writes))).toEqual({ ok: true, batch: batch(writes) });
  });

  it('names the first invalid write by its index', () => {
    expect(
      parseCrdtBatch(
        batch([
          { op: 'increment', name: 'c', delta: 1 },
          { op: 'increment', name: 'c', delta: 1.5 },
          { op: 'nope', name: 'c' },
        ]),
      ),
    ).toEqual({ ok: false, index: 1, reason: 'delta must be an integer between -1e12 and 1e12' });
    expect(
      parseCrdtBatch(batch([{ op: 'set-add', name: 'bad name', element: 'x' }])),
    ).toMatchObject({
      ok: false,
      index: 0,
    });
  });

  it('refuses a bad range, source or size as a whole', () => {
    expect(parseCrdtBatch(batch([], { from: 10 }))).not.toHaveProperty('index');
    expect(parseCrdtBatch(batch([], { source: '' }))).toMatchObject({ ok: false });
    expect(parseCrdtBatch(batch([], { through: -1 }))).toMatchObject({ ok: false });
    const many = Array.from({ length: CRDT_BATCH_WRITES_MAX + 1 }, () => ({
      op: 'increment',
      name: 'c',
      delta: 1,
    }));
    expect(parseCrdtBatch(batch(many))).toMatchObject({ ok: false });
    expect(parseCrdtBatch(batch(many))).not.toHaveProperty('index');
    expect(parseCrdtBatch(null)).toEqual({ ok: false, reason: 'not an object' });
  });
});

describe('parseCrdtWrites', () => {
  it('checks each write on its own: a valid one comes back checked, an invalid one as why', () => {
    expect(
      parseCrdtWrites({
        writes: [
          { op: 'increment', name: 'a', delta: 2 },
          { op: 'set-add', name: 'bad name', element: 'x' },
          { op: 'flag', name: 'f' },
        ],
      }),
    ).toEqual({
      ok: true,
      writes: [
        { op: 'increment', name: 'a', delta: 2 },
        { invalid: expect.stringMatching(/^name must be 1-128 characters/) },
        { invalid: 'value is required' },
      ],
    });
  });

  it('refuses a body that is not { writes } of at most CRDT_WRITES_MAX', () => {
    const reason = `writes must be an array of at most ${CRDT_WRITES_MAX}`;
    expect(parseCrdtWrites(null)).toEqual({ ok: false, reason });
    expect(parseCrdtWrites({ writes: 'x' })).toEqual({ ok: false, reason });
    const many = Array.from({ length: CRDT_WRITES_MAX + 1 }, () => ({
      op: 'increment',
      name: 'a',
      delta: 1,
    }));
    expect(parseCrdtWrites({ writes: many })).toEqual({ ok: false, reason });
  });
});
