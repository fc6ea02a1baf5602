import { GCounter } from './gcounter';

/** Counter with increments and decrements: two G-Counters, value = P − N (may go below 0). */
export class PNCounter {
  readonly p = new GCounter();
  readonly n = new GCounter();

  value(): number {
    return this.p.value() - this.n.value();
  }

  increment(replica: string, amount: number): PNCounter {
    const delta = new PNCounter();
    if (amount > 0) delta.p.merge(this.p.increment(replica, amount));
    else if (amount < 0) delta.n.merge(this.n.increment(replica, -amount));
    return delta;
  }

  /**
   * What a peer whose slots are `seen` lacks: only the slots that are ahead here (anti-entropy
   * sends this instead of the full state).
   */
  deltaSince(seen: { p: ReadonlyMap<string, number>; n: ReadonlyMap<string, number> }): PNCounter {
    const delta = new PNCounter();
    for (const [half, known] of [
      [this.p, seen.p],
      [this.n, seen.n],
    ] as const) {
      const into = half === this.p ? delta.p : delta.n;
      for (const [replica, count] of half.counts)
        if (count > (known.get(replica) ?? 0)) into.counts.set(replica, count);
    }
    return delta;
  }

  isEmpty(): boolean {
    return this.p.counts.size === 0 && this.n.counts.size === 0;
  }

  merge(other: PNCounter): void {
    this.p.merge(other.p);
    this.n.merge(other.n);
  }

  clone(): PNCounter {
    const copy = new PNCounter();
    copy.merge(this);
    return copy;
  }

  toJSON(): { p: Record<string, number>; n: Record<string, number> } {
    return { p: this.p.toJSON(), n: this.n.toJSON() };
  }
}
