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
