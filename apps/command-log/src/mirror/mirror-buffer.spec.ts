import fc from 'fast-check';
import { MirrorBuffer } from './mirror-buffer';
import { AppliedRecord } from './mirror-record';

const record = (index: number): AppliedRecord => ({
  index,
  term: 1,
  command: { type: 'kv.put', key: `k${index}`, value: 'v', requestId: `r${index}`, ts: 0 },
  result: null,
  replayed: false,
  events: [],
});

describe('MirrorBuffer', () => {
  it('hands out records across indexes that were never recorded', () => {
    // 3 and 5 are entries the mirror skips (a clock tick, a no-op): nothing waits for them.
    const buffer = new MirrorBuffer(100);
    for (const index of [1, 2, 4, 6]) buffer.add(record(index));
    expect(buffer.oldest(10).map((r) => r.index)).toEqual([1, 2, 4, 6]);
    buffer.dropThrough(2);
    expect(buffer.oldest(10).map((r) => r.index)).toEqual([4, 6]);
    buffer.dropThrough(5);
    expect(buffer.oldest(1).map((r) => r.index)).toEqual([6]);
    expect(buffer.size).toBe(1);
  });

  it('drops the oldest record beyond its limit and says which', () => {
    const buffer = new MirrorBuffer(2);
    expect(buffer.add(record(1))).toBeUndefined();
    expect(buffer.add(record(2))).toBeUndefined();
    expect(buffer.add(record(3))).toBe(1);
    expect(buffer.oldest(10).map((r) => r.index)).toEqual([2, 3]);
  });

  it('starts over when a record does not follow the last one', () => {
    const buffer = new MirrorBuffer(10);
    buffer.add(record(5));
    buffer.add(record(6));
    buffer.add(record(3));
    expect(buffer.oldest(10).map((r) => r.index)).toEqual([3]);
  });

  it('keeps index order and exactly the records above what was dropped', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer({ min: 1, max: 5 }), fc.constant(-1)), { maxLength: 3_000 }),
        (steps) => {
          const buffer = new MirrorBuffer(1_000_000);
          const model: number[] = [];
          let next = 0;
          for (const step of steps) {
            if (step > 0) {
              next += step; // gaps of up to four indexes
              buffer.add(record(next));
              model.push(next);
            } else {
              const through = model[Math.floor(model.length / 2)] ?? 0;
              buffer.dropThrough(through);
              model.splice(0, model.filter((index) => index <= through).length);
            }
          }
          expect(buffer.size).toBe(model.length);
          expect(buffer.oldest(model.length + 1).map((r) => r.index)).toEqual(model);
        },
      ),
    );
  });
});
