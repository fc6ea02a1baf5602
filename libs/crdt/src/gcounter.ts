import { assert } from '@parley/common';

/** Grow-only counter: one slot per replica, join takes the maximum of each slot. */
export class GCounter {
  readonly counts = new Map<string, number>();

  value(): number {
    let sum = 0;
    for (const n of this.counts.values()) sum += n;
    return sum;
  }

  /** Adds `amount` (≥ 0) on `replica`; returns the delta: just that replica's new slot. */
  increment(replica: string, amount: number): GCounter {
    assert(Number.isSafeInteger(amount) && amount >= 0, 'a G-Counter only grows');
    const delta = new GCounter();
    if (amount === 0) return delta; // a zero slot would differ from an absent one
    const next = (this.counts.get(replica) ?? 0) + amount;
    assert(Number.isSafeInteger(next), 'counter overflow');
    this.counts.set(replica, next);
    delta.counts.set(replica, next);
    return delta;
  }

  merge(other: GCounter): void {
    for (const [replica, n] of other.counts)
      if (n > (this.counts.get(replica) ?? 0)) this.counts.set(replica, n);
  }

  clone(): GCounter {
    const copy = new GCounter();
    for (const [replica, n] of this.counts) copy.counts.set(replica, n);
    return copy;
  }

  toJSON(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }
}
