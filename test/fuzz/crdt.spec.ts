import { decodeCrdt, ORSet } from '@parley/crdt';
import { INPUT_TIME_BOUND_MS, cpuTimeMs, fuzzTest } from './harness';
import { crdtCodecTarget } from './targets/crdt';

describe('fuzz: crdt codec', () => {
  fuzzTest(crdtCodecTarget);

  describe('regressions', () => {
    it('crdt-codec counterexample: a flag nested deeper than JSON.stringify can go is refused', () => {
      // fast-check seed -1944194953; JSON.parse takes this, JSON.stringify threw a RangeError.
      const deep = (depth: number) => `${'['.repeat(depth)}0${']'.repeat(depth)}`;
      const text =
        `{"value":${'['.repeat(4182)}0${']'.repeat(4181)},false,1.4438579500863735e+135,true,"XL","yH80)H0]",` +
        `-1.2695118241300867e-125,false,null,null],"ts":{"wallMs":177897454,"logical":3,"node":"r1"},` +
        `"":${deep(1000)}}`;
      expect(() => crdtCodecTarget.execute({ kind: 'flag', text })).not.toThrow();
      expect(decodeCrdt('flag', JSON.parse(text))).toEqual({
        ok: false,
        error: 'a flag value must be JSON of at most 4 KiB',
      });
      const deeper = { value: JSON.parse(deep(50_000)), ts: { wallMs: 1, logical: 0, node: 'r1' } };
      expect(decodeCrdt('flag', deeper).ok).toBe(false);
    });

    // The shrunk counterexample (2,740 cloud dots, two replicas, counters 1, 3, 5, ... in an
    // interleaved order) sat just over the bound; the same shapes at the generator's 12,000 dots
    // took seconds before the fix (a compaction per dot, and a pass per folded dot).
    const cloudOf = (count: number, first: number, gap: number, order: string) => {
      const cloud = Array.from({ length: count }, (_, i) => ({
        replica: `r${i % 2}`,
        counter: first + gap * Math.floor(i / 2),
      }));
      if (order === 'descending') cloud.reverse();
      if (order === 'interleaved') cloud.sort((a, b) => (a.counter % 7) - (b.counter % 7));
      return cloud;
    };
    it.each([
      [1, 2, 'interleaved'],
      [1, 1, 'descending'],
      [1, 1, 'interleaved'],
      [2, 1, 'ascending'],
    ])(
      'a causal context of 12,000 cloud dots (first %i, gap %i, %s) decodes in linear time',
      (first, gap, order) => {
        const text = JSON.stringify({
          entries: [],
          context: { vector: [], cloud: cloudOf(12_000, first, gap, order) },
        });
        // CPU time, not wall time: a busy machine must not fail a linear decode.
        expect(cpuTimeMs(() => crdtCodecTarget.execute({ kind: 'set', text }))).toBeLessThan(
          INPUT_TIME_BOUND_MS,
        );
      },
    );

    it('crdt-codec input 1727 (seed -1944194953): 12,000 gapped dots of three replicas, descending, stay within the bound', () => {
      // It took 384 ms of CPU in one CI run against a 250 ms bound (see INPUT_TIME_BOUND_MS); the
      // codec now decodes a context straight into its set instead of keying every dot twice.
      const cloud: { replica: string; counter: number }[] = [];
      for (let counter = 7994; counter >= 2; counter -= 2)
        for (const replica of ['r0', 'r2', 'r1']) cloud.push({ replica, counter });
      const text = JSON.stringify({ entries: [], context: { vector: [], cloud } });
      expect(cpuTimeMs(() => crdtCodecTarget.execute({ kind: 'set', text }))).toBeLessThan(
        INPUT_TIME_BOUND_MS,
      );
      const decoded = decodeCrdt('set', JSON.parse(text));
      expect(decoded.ok && (decoded.value as ORSet).toJSON().context.cloud).toHaveLength(11_991);
    });

    it('still folds the cloud into the vector as before: contiguous runs in any order, gaps kept', () => {
      const descending = decodeCrdt('set', {
        entries: [],
        context: { vector: [], cloud: cloudOf(6_000, 1, 1, 'descending') },
      });
      expect(descending.ok && (descending.value as ORSet).toJSON().context).toEqual({
        vector: [
          ['r0', 3000],
          ['r1', 3000],
        ],
        cloud: [],
      });
      const gapped = decodeCrdt('set', {
        entries: [],
        context: {
          vector: [['a', 1]],
          cloud: [5, 3, 2, 6].map((counter) => ({ replica: 'a', counter })),
        },
      });
      expect(gapped.ok && (gapped.value as ORSet).toJSON().context).toEqual({
        vector: [['a', 3]],
        cloud: [
          { replica: 'a', counter: 5 },
          { replica: 'a', counter: 6 },
        ],
      });
    });
  });
});
