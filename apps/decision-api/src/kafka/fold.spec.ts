import { INCREMENT_ABS_MAX } from '@parley/crdt';
import { EventualRecord, foldEventual, rangesBySize } from './fold';

const at = (offset: number, write: EventualRecord['write'], requestId = `r${offset}`) => ({
  offset,
  requestId,
  write,
});

describe('folding a partition’s eventual records into crdt writes', () => {
  it('adds up increments to one counter, keeping which records each write stands for', () => {
    const folded = foldEventual([
      at(1, { op: 'increment', name: 'a', delta: 2 }),
      at(2, { op: 'increment', name: 'b', delta: 1 }),
      at(3, { op: 'increment', name: 'a', delta: -5 }),
    ]);
    expect(folded).toEqual([
      { write: { op: 'increment', name: 'a', delta: -3 }, offsets: [1, 3] },
      { write: { op: 'increment', name: 'b', delta: 1 }, offsets: [2] },
    ]);
  });

  it('starts a second write when a sum would leave the allowed range', () => {
    const folded = foldEventual([
      at(1, { op: 'increment', name: 'a', delta: INCREMENT_ABS_MAX }),
      at(2, { op: 'increment', name: 'a', delta: 1 }),
      at(3, { op: 'increment', name: 'a', delta: 2 }),
    ]);
    expect(folded.map((f) => f.write)).toEqual([
      { op: 'increment', name: 'a', delta: INCREMENT_ABS_MAX },
      { op: 'increment', name: 'a', delta: 3 },
    ]);
  });

  it('keeps the last write per set element and per flag, as one by one would end', () => {
    const folded = foldEventual([
      at(1, { op: 'set-add', name: 's', element: 'x' }),
      at(2, { op: 'flag', name: 'f', value: 1 }),
      at(3, { op: 'set-add', name: 's', element: 'y' }),
      at(4, { op: 'set-remove', name: 's', element: 'x' }),
      at(5, { op: 'flag', name: 'f', value: { on: true } }),
    ]);
    expect(folded).toEqual([
      { write: { op: 'set-remove', name: 's', element: 'x' }, offsets: [1, 4] },
      { write: { op: 'flag', name: 'f', value: { on: true } }, offsets: [2, 5] },
      { write: { op: 'set-add', name: 's', element: 'y' }, offsets: [3] },
    ]);
  });

  it('adds nothing for a requestId seen earlier (the producer sent it twice)', () => {
    const folded = foldEventual([
      at(1, { op: 'increment', name: 'a', delta: 1 }, 'same'),
      at(2, { op: 'increment', name: 'a', delta: 1 }, 'same'),
    ]);
    expect(folded).toEqual([{ write: { op: 'increment', name: 'a', delta: 1 }, offsets: [1, 2] }]);
  });
});

describe('cutting a batch’s offset range by size', () => {
  const record = (offset: number, bytes: number) => ({ offset, bytes });

  it('keeps one range when everything fits', () => {
    const records = [record(3, 10), record(5, 10)];
    expect(rangesBySize(records, 0, 9, 100, 10)).toEqual([{ from: 0, through: 9, records }]);
  });

  it('cuts consecutive ranges without gaps, by bytes and by count', () => {
    const records = [record(1, 60), record(2, 60), record(4, 10), record(6, 10), record(7, 10)];
    expect(rangesBySize(records, 0, 9, 100, 2)).toEqual([
      { from: 0, through: 1, records: [records[0]] },
      { from: 2, through: 4, records: [records[1], records[2]] },
      { from: 5, through: 9, records: [records[3], records[4]] },
    ]);
  });

  it('gives a record larger than the bound a range of its own', () => {
    const records = [record(0, 500), record(1, 10)];
    expect(rangesBySize(records, 0, 1, 100, 10)).toEqual([
      { from: 0, through: 0, records: [records[0]] },
      { from: 1, through: 1, records: [records[1]] },
    ]);
  });
});
