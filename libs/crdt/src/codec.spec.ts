import fc from 'fast-check';
import { decodeCrdt } from './codec';
import { ORSet } from './orset';
import { PNCounter } from './pncounter';

describe('crdt codec', () => {
  it('round-trips each kind through its canonical JSON', () => {
    const counter = new PNCounter();
    counter.increment('r1', 5);
    counter.increment('r2', -2);
    const set = new ORSet();
    set.add('r1', 'a');
    set.add('r2', 'b');
    set.remove('a');
    for (const [kind, value] of [
      ['counter', counter],
      ['set', set],
    ] as const) {
      const decoded = decodeCrdt(kind, JSON.parse(JSON.stringify(value.toJSON())));
      expect(decoded.ok && JSON.stringify(decoded.value.toJSON())).toBe(
        JSON.stringify(value.toJSON()),
      );
    }
  });

  it('names what is wrong and never builds a half object', () => {
    expect(decodeCrdt('bogus', {})).toEqual({ ok: false, error: 'unknown crdt kind "bogus"' });
    expect(decodeCrdt('counter', { p: { r1: -1 }, n: {} })).toEqual({
      ok: false,
      error: 'bad counter slot',
    });
    expect(decodeCrdt('counter', { p: { '__proto__!': 1 }, n: {} })).toEqual({
      ok: false,
      error: 'bad replica id in counter',
    });
    expect(
      decodeCrdt('set', {
        entries: [['x', [{ replica: 'r1', counter: 0 }]]],
        context: { vector: [], cloud: [] },
      }),
    ).toEqual({
      ok: false,
      error: 'bad dot counter',
    });
    expect(decodeCrdt('flag', { value: 1, ts: { wallMs: -1, logical: 0, node: 'n' } })).toEqual({
      ok: false,
      error: 'bad wallMs',
    });
  });

  it('fuzz (seeded): arbitrary JSON is decoded or refused, never thrown', () => {
    fc.assert(
      fc.property(fc.constantFrom('counter', 'set', 'flag'), fc.jsonValue(), (kind, raw) => {
        const result = decodeCrdt(kind, raw);
        expect(typeof result.ok).toBe('boolean');
      }),
      { seed: 7, numRuns: 2_000 },
    );
  });
});
