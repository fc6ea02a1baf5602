import { EntryType } from './types';
import { MemoryStorage } from './storage';

describe('MemoryStorage compaction', () => {
  it('gives the entries it keeps data of their own, so the buffers they were read from can go', () => {
    const storage = new MemoryStorage();
    // Three entries read from one larger buffer (a WAL segment, a peer frame).
    const read = new Uint8Array([9, 1, 2, 3, 9]);
    const entries = [1, 2, 3].map((index) => ({
      index,
      term: 1,
      type: EntryType.Normal,
      data: read.subarray(index, index + 1),
    }));
    storage.append(entries);
    storage.compact(2);
    const kept = storage.entries(3, 4, Number.MAX_SAFE_INTEGER);
    expect(kept).not.toBe('compacted');
    const [third] = kept as typeof entries;
    expect([...third.data]).toEqual([3]);
    expect(third.data.buffer).not.toBe(read.buffer);
    expect(third.data.buffer.byteLength).toBe(1);
  });
});
