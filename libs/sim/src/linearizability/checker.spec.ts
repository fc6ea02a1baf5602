import fc from 'fast-check';
import { checkLinearizable } from './checker';
import { formatFailure } from './format';
import { Operation } from './history';
import { KvInput, KvOutput, kvModel } from './kv-model';
import { naiveLinearizable } from './naive-checker';

type Op = Operation<KvInput, KvOutput>;
const put = (clientId: number, key: string, value: string, call: number, ret: number): Op => ({
  clientId,
  input: { kind: 'put', key, value },
  output: { ok: true },
  call,
  return: ret,
});
const get = (
  clientId: number,
  key: string,
  value: string | null,
  call: number,
  ret: number,
): Op => ({
  clientId,
  input: { kind: 'get', key },
  output: { value },
  call,
  return: ret,
});
const cas = (
  clientId: number,
  key: string,
  expected: string | null,
  value: string,
  ok: boolean,
  call: number,
  ret: number,
): Op => ({
  clientId,
  input: { kind: 'cas', key, expected, value },
  output: { ok },
  call,
  return: ret,
});
const unknownPut = (clientId: number, key: string, value: string, call: number): Op => ({
  clientId,
  input: { kind: 'put', key, value },
  call,
  return: Infinity,
});
const check = (ops: Op[]) => checkLinearizable(kvModel, ops).result;

describe('linearizability checker', () => {
  it('accepts a sequential history', () => {
    expect(
      check([
        put(1, 'x', 'a', 0, 1),
        get(1, 'x', 'a', 2, 3),
        put(1, 'x', 'b', 4, 5),
        get(2, 'x', 'b', 6, 7),
      ]),
    ).toBe('ok');
  });

  it('accepts a read that sees either of two concurrent writes', () => {
    const writes = [put(1, 'x', 'a', 0, 10), put(2, 'x', 'b', 0, 10)];
    expect(check([...writes, get(3, 'x', 'a', 11, 12)])).toBe('ok');
    expect(check([...writes, get(3, 'x', 'b', 11, 12)])).toBe('ok');
  });

  it('rejects a stale read: a write completed before the read began, yet the read misses it', () => {
    expect(check([put(1, 'x', 'a', 0, 1), get(2, 'x', null, 2, 3)])).toBe('illegal');
  });

  it('rejects a lost write: a later read sees an older value after a newer write was acknowledged', () => {
    expect(check([put(1, 'x', 'a', 0, 1), put(1, 'x', 'b', 2, 3), get(2, 'x', 'a', 4, 5)])).toBe(
      'illegal',
    );
  });

  it('rejects an acknowledged write that never becomes visible', () => {
    expect(check([put(1, 'x', 'a', 0, 1), get(2, 'x', null, 5, 6), get(2, 'x', null, 7, 8)])).toBe(
      'illegal',
    );
  });

  it('rejects two concurrent compare-and-sets from the same value that both succeed', () => {
    const ops = [
      put(1, 'x', 'v0', 0, 1),
      cas(2, 'x', 'v0', 'v1', true, 2, 10),
      cas(3, 'x', 'v0', 'v2', true, 2, 10),
    ];
    expect(check(ops)).toBe('illegal');
  });

  it('accepts two concurrent compare-and-sets when one fails', () => {
    const ops = [
      put(1, 'x', 'v0', 0, 1),
      cas(2, 'x', 'v0', 'v1', true, 2, 10),
      cas(3, 'x', 'v0', 'v2', false, 2, 10),
      get(1, 'x', 'v1', 11, 12),
    ];
    expect(check(ops)).toBe('ok');
  });

  it('lets an operation with unknown outcome take effect after its call', () => {
    expect(check([unknownPut(1, 'x', 'a', 0), get(2, 'x', 'a', 5, 6)])).toBe('ok');
  });

  it('lets an operation with unknown outcome never take effect', () => {
    expect(check([unknownPut(1, 'x', 'a', 0), get(2, 'x', null, 5, 6)])).toBe('ok');
  });

  it('rejects an unknown write that is seen and then unseen', () => {
    expect(
      check([unknownPut(1, 'x', 'a', 0), get(2, 'x', 'a', 5, 6), get(2, 'x', null, 7, 8)]),
    ).toBe('illegal');
  });

  it('checks keys independently and names the failing key', () => {
    const ops = [
      put(1, 'x', 'a', 0, 1),
      get(2, 'x', 'a', 2, 3),
      put(1, 'y', 'b', 0, 1),
      get(2, 'y', null, 2, 3),
    ];
    const report = checkLinearizable(kvModel, ops);
    expect(report.result).toBe('illegal');
    expect(report.failure?.partition).toBe('y');
    expect(report.partitionsChecked).toBe(2);
    expect(formatFailure(kvModel as never, report)).toContain('get(y) -> {"value":null}');
  });

  it('answers unknown, never ok, when the step budget runs out', () => {
    const ops: Op[] = [];
    for (let i = 0; i < 12; i += 1) ops.push(put(i, 'x', `v${i}`, 0, 100));
    ops.push(get(99, 'x', 'nobody-wrote-this', 101, 102));
    expect(checkLinearizable(kvModel, ops, { maxSteps: 50 }).result).toBe('unknown');
  });

  it('checks a long history of a real register with overlapping operations', () => {
    const ops = registerHistory(2024, 2500, 5);
    const report = checkLinearizable(kvModel, ops);
    expect(report.result).toBe('ok');
    expect(report.partitionsChecked).toBe(5);
  });

  it('agrees with the brute-force definition on random tiny histories', () => {
    fc.assert(
      fc.property(tinyHistory, (ops) => {
        const expected = naiveLinearizable(kvModel, ops) ? 'ok' : 'illegal';
        expect(checkLinearizable(kvModel, ops).result).toBe(expected);
      }),
      { numRuns: 3000 },
    );
  });

  it('accepts every history produced by a real register (linearization points inside the intervals)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), (seed) => {
        expect(checkLinearizable(kvModel, registerHistory(seed, 60, 2)).result).toBe('ok');
      }),
      { numRuns: 200 },
    );
  });
});

/** A seeded PRNG for generated histories (mulberry32). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Simulates a real linearizable store: each operation takes effect at a random point inside
 * its interval, in that order, and some outcomes are dropped as unknown.
 */
function registerHistory(seed: number, count: number, keys: number): Op[] {
  const random = mulberry32(seed);
  const planned = Array.from({ length: count }, (_, i) => {
    const call = Math.floor(random() * count * 4);
    const length = 1 + Math.floor(random() * 12);
    const point = call + random() * length;
    const key = `k${Math.floor(random() * keys)}`;
    const roll = random();
    return { i, call, ret: call + length, point, key, roll, clientId: i % 16 };
  });
  const state = new Map<string, string | null>();
  const ops: Op[] = [];
  for (const p of [...planned].sort((a, b) => a.point - b.point)) {
    const current = state.get(p.key) ?? null;
    const unknown = random() < 0.05;
    let op: Op;
    if (p.roll < 0.4) {
      state.set(p.key, `v${p.i}`);
      op = put(p.clientId, p.key, `v${p.i}`, p.call, p.ret);
    } else if (p.roll < 0.8) {
      op = get(p.clientId, p.key, current, p.call, p.ret);
    } else {
      const expected = random() < 0.5 ? current : `v${Math.floor(random() * count)}`;
      const ok = expected === current;
      if (ok) state.set(p.key, `c${p.i}`);
      op = cas(p.clientId, p.key, expected, `c${p.i}`, ok, p.call, p.ret);
    }
    ops.push(unknown ? { ...op, output: undefined, return: Infinity } : op);
  }
  return ops;
}

const tinyHistory: fc.Arbitrary<Op[]> = fc
  .array(
    fc.record({
      clientId: fc.integer({ min: 0, max: 3 }),
      key: fc.constantFrom('x', 'y'),
      kind: fc.constantFrom('put', 'get', 'cas'),
      value: fc.constantFrom('a', 'b'),
      read: fc.constantFrom<string | null>('a', 'b', null),
      ok: fc.boolean(),
      call: fc.integer({ min: 0, max: 10 }),
      length: fc.integer({ min: 0, max: 6 }),
      unknown: fc.boolean(),
    }),
    { minLength: 1, maxLength: 6 },
  )
  .map((specs) =>
    specs.map((s): Op => {
      const ret = s.unknown && s.kind !== 'get' ? Infinity : s.call + s.length;
      const base = { clientId: s.clientId, call: s.call, return: ret };
      if (s.kind === 'put')
        return {
          ...base,
          input: { kind: 'put', key: s.key, value: s.value },
          output: ret === Infinity ? undefined : { ok: true },
        };
      if (s.kind === 'get')
        return { ...base, input: { kind: 'get', key: s.key }, output: { value: s.read } };
      return {
        ...base,
        input: { kind: 'cas', key: s.key, expected: s.read, value: s.value },
        output: ret === Infinity ? undefined : { ok: s.ok },
      };
    }),
  );
