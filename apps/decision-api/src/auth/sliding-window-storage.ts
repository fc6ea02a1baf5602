import type { ThrottlerStorage } from '@nestjs/throttler';

/** What the throttler guard expects back for one request (@nestjs/throttler's record). */
export interface ThrottleVerdict {
  totalHits: number;
  /** Seconds until the oldest counted hit leaves the window (X-RateLimit-Reset). */
  timeToExpire: number;
  isBlocked: boolean;
  /** Seconds until a blocked key may try again (Retry-After). */
  timeToBlockExpire: number;
}

/** The window is counted in this many slices: the count is exact to one slice (100 ms of 1 s). */
const SLICES = 10;

interface KeyWindow {
  counts: Int32Array;
  /** The slice number (time / slice width) of the newest slice counted. */
  newest: number;
  total: number;
  blockedUntil: number;
}

/**
 * A sliding-window hit counter per throttler key, O(slices) per request. It replaces
 * @nestjs/throttler's in-memory storage, which keeps one timestamp per hit and filters and
 * spreads that array on every request: O(hits in the window) each time, 28 µs a request at
 * 1,000 requests/s on one key and 43 µs at 5,000 (this one: ~1 µs), 6 % of decision-api's CPU
 * under the 64-client benchmark. Same rules as the library's: a key may make `limit` requests in any window of `ttl`; the
 * request past that is refused and the key stays refused for `blockDuration`, then starts afresh.
 * Bounded: at most `maxKeys` keys (the least recently used goes first), idle ones swept.
 */
export class SlidingWindowStorage implements ThrottlerStorage {
  private readonly windows = new Map<string, KeyWindow>();

  constructor(
    private readonly maxKeys = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.windows.size;
  }

  increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
  ): Promise<ThrottleVerdict> {
    return Promise.resolve(this.hit(key, ttl, limit, blockDuration));
  }

  /** The synchronous core of `increment`. */
  hit(key: string, ttl: number, limit: number, blockDuration: number): ThrottleVerdict {
    const now = this.now();
    const width = Math.max(1, ttl / SLICES);
    const slice = Math.floor(now / width);
    const window = this.windowOf(key, slice);
    slide(window, slice);
    if (window.blockedUntil > now)
      return this.verdict(window, now, width, true, window.blockedUntil - now);
    if (window.blockedUntil !== 0) {
      window.counts.fill(0);
      window.total = 0;
      window.blockedUntil = 0;
    }
    if (blockDuration <= 0 && window.total >= limit)
      return this.verdict(window, now, width, true, this.untilOldestLeaves(window, now, width));
    // A clock that stepped back counts into the newest slice rather than an old one.
    window.counts[Math.max(slice, window.newest) % SLICES] += 1;
    window.total += 1;
    if (blockDuration > 0 && window.total > limit) {
      window.blockedUntil = now + blockDuration;
      return this.verdict(window, now, width, true, blockDuration);
    }
    return this.verdict(window, now, width, false, 0);
  }

  private windowOf(key: string, slice: number): KeyWindow {
    let window = this.windows.get(key);
    if (window) {
      // Re-insert, so that the map's order is least recently used first.
      this.windows.delete(key);
    } else {
      if (this.windows.size >= this.maxKeys) this.evictIdleOr(slice);
      window = { counts: new Int32Array(SLICES), newest: slice, total: 0, blockedUntil: 0 };
    }
    this.windows.set(key, window);
    return window;
  }

  /** Drops keys with nothing counted and not blocked; failing that, the least recently used. */
  private evictIdleOr(slice: number): void {
    const now = this.now();
    for (const [key, window] of this.windows) {
      slide(window, slice);
      if (window.total === 0 && window.blockedUntil <= now) this.windows.delete(key);
    }
    if (this.windows.size >= this.maxKeys) {
      const oldest = this.windows.keys().next();
      if (!oldest.done) this.windows.delete(oldest.value);
    }
  }

  private verdict(
    window: KeyWindow,
    now: number,
    width: number,
    isBlocked: boolean,
    blockedForMs: number,
  ): ThrottleVerdict {
    return {
      totalHits: window.total + (isBlocked ? 1 : 0),
      timeToExpire: Math.ceil(this.untilOldestLeaves(window, now, width) / 1000),
      isBlocked,
      timeToBlockExpire: isBlocked ? Math.max(1, Math.ceil(blockedForMs / 1000)) : 0,
    };
  }

  /** Milliseconds until the oldest slice with a hit in it leaves the window. */
  private untilOldestLeaves(window: KeyWindow, now: number, width: number): number {
    for (let age = SLICES - 1; age >= 0; age--) {
      const slice = window.newest - age;
      if (window.counts[slice % SLICES] > 0) return (slice + SLICES) * width - now;
    }
    return 0;
  }
}

/** Moves the window forward to `slice`, forgetting the slices that fell out of it. */
function slide(window: KeyWindow, slice: number): void {
  if (slice <= window.newest) return;
  const gone = Math.min(SLICES, slice - window.newest);
  for (let i = 1; i <= gone; i++) {
    const index = (window.newest + i) % SLICES;
    window.total -= window.counts[index];
    window.counts[index] = 0;
  }
  window.newest = slice;
}
