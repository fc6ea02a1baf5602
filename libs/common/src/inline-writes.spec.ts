import { InlineWrites } from './inline-writes';

describe('InlineWrites', () => {
  it('sends writes to the thread pool for a pause after one slow inline write, then tries inline again', () => {
    let now = 0;
    const writes = new InlineWrites({
      writeMaxMs: 1,
      pauseMs: 1_000,
      bytesMax: 100,
      now: () => now,
    });
    expect(writes.choose(10)).toBe(true);
    writes.took(0.4); // fast: the next goes inline too
    expect(writes.choose(10)).toBe(true);
    writes.took(5); // slow
    now = 999;
    expect(writes.choose(10)).toBe(false);
    now = 1_000;
    expect(writes.choose(10)).toBe(true);
    expect([writes.inline, writes.pooled]).toEqual([3, 1]);
  });

  it('never writes inline with a limit of 0 (PARLEY_INLINE_WRITE_MAX_US=0)', () => {
    const writes = InlineWrites.withLimitUs(0);
    expect([writes.choose(1), writes.choose(1)]).toEqual([false, false]);
    expect(InlineWrites.withLimitUs(1_000).choose(1)).toBe(true);
  });

  it('never writes a large batch inline', () => {
    const writes = new InlineWrites({ bytesMax: 100, now: () => 0 });
    expect(writes.choose(101)).toBe(false);
    expect(writes.choose(100)).toBe(true);
  });
});
