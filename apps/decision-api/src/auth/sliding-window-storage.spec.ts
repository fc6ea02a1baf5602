import { SlidingWindowStorage } from './sliding-window-storage';

describe('SlidingWindowStorage', () => {
  let now = 0;
  const clock = () => now;
  beforeEach(() => (now = 1_000_000));

  it('allows `limit` hits in a window, refuses the next and blocks for blockDuration', () => {
    const storage = new SlidingWindowStorage(100, clock);
    const verdicts = Array.from({ length: 4 }, () => storage.hit('k', 1_000, 3, 1_000));
    expect(verdicts.map((v) => v.isBlocked)).toEqual([false, false, false, true]);
    expect(verdicts.map((v) => v.totalHits)).toEqual([1, 2, 3, 5]);
    expect(verdicts[3].timeToBlockExpire).toBe(1);
    now += 999;
    expect(storage.hit('k', 1_000, 3, 1_000).isBlocked).toBe(true);
    now += 1;
    // The block is over: the key starts afresh.
    const after = storage.hit('k', 1_000, 3, 1_000);
    expect(after).toMatchObject({ isBlocked: false, totalHits: 1 });
  });

  it('slides: hits older than the window stop counting, one slice at a time', () => {
    const storage = new SlidingWindowStorage(100, clock);
    storage.hit('k', 1_000, 3, 0); // at 0 ms
    now += 500;
    storage.hit('k', 1_000, 3, 0); // at 500 ms
    storage.hit('k', 1_000, 3, 0);
    expect(storage.hit('k', 1_000, 3, 0).isBlocked).toBe(true); // without a block: just refused
    now += 500; // the first hit's slice has left the window
    expect(storage.hit('k', 1_000, 3, 0)).toMatchObject({ isBlocked: false, totalHits: 3 });
    expect(storage.hit('k', 1_000, 3, 0).isBlocked).toBe(true);
    now += 1_000; // everything has left
    expect(storage.hit('k', 1_000, 3, 0)).toMatchObject({ isBlocked: false, totalHits: 1 });
  });

  it('tells when the oldest counted hit leaves (the reset header)', () => {
    const storage = new SlidingWindowStorage(100, clock);
    storage.hit('k', 2_000, 10, 0);
    now += 1_600;
    // The first hit leaves at 2,000 ms: 400 ms from now, rounded up to a second.
    expect(storage.hit('k', 2_000, 10, 0).timeToExpire).toBe(1);
    now += 500;
    // Now the oldest is the one at 1,600 ms, leaving at 3,600: 1.5 s from now.
    expect(storage.hit('k', 2_000, 10, 0).timeToExpire).toBe(2);
  });

  it('keeps keys apart', () => {
    const storage = new SlidingWindowStorage(100, clock);
    for (let i = 0; i < 3; i++) storage.hit('a', 1_000, 3, 1_000);
    expect(storage.hit('a', 1_000, 3, 1_000).isBlocked).toBe(true);
    expect(storage.hit('b', 1_000, 3, 1_000).isBlocked).toBe(false);
  });

  it('holds at most maxKeys keys: idle ones go first, then the least recently used', () => {
    const storage = new SlidingWindowStorage(3, clock);
    storage.hit('idle', 1_000, 5, 1_000);
    now += 2_000;
    storage.hit('a', 1_000, 5, 1_000);
    storage.hit('b', 1_000, 5, 1_000);
    storage.hit('c', 1_000, 5, 1_000); // 'idle' has nothing left in its window: swept
    expect(storage.size).toBe(3);
    storage.hit('a', 1_000, 5, 1_000); // a is now the most recently used
    storage.hit('d', 1_000, 5, 1_000); // nothing idle: b, the least recently used, goes
    expect(storage.size).toBe(3);
    expect(storage.hit('b', 1_000, 5, 1_000).totalHits).toBe(1);
    expect(storage.hit('a', 1_000, 5, 1_000).totalHits).toBe(3);
  });

  it('costs the same however many hits the window holds (no per-hit record)', () => {
    const storage = new SlidingWindowStorage(100, clock);
    // 300,000 hits in one window: the library's storage would filter a growing array each time.
    let last = storage.hit('k', 1_000, 1_000_000, 1_000);
    for (let i = 1; i < 300_000; i++) last = storage.hit('k', 1_000, 1_000_000, 1_000);
    expect(last).toMatchObject({ isBlocked: false, totalHits: 300_000 });
  });
});
