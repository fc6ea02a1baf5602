import { assert } from '@parley/common';

/** A replica id and a per-replica event counter: the unique name of one update. */
export interface Dot {
  replica: string;
  counter: number;
}

export function dotKey(dot: Dot): string {
  return `${dot.replica}\u0000${dot.counter}`;
}

/**
 * A causal context as a dotted version vector: a compact version vector (every counter up to n
 * seen from a replica) plus a cloud of dots seen out of order. Deltas arrive in any order, so
 * the cloud holds what is not yet contiguous; `compact()` folds it into the vector, so removed
 * elements leave no tombstones behind, only counters.
 */
export class CausalContext {
  readonly vector = new Map<string, number>();
  readonly cloud = new Set<string>();
  private readonly cloudDots = new Map<string, Dot>();

  has(dot: Dot): boolean {
    return (this.vector.get(dot.replica) ?? 0) >= dot.counter || this.cloud.has(dotKey(dot));
  }

  /** The next dot of `replica` (this context must be the replica's own). */
  next(replica: string): Dot {
    const dot = { replica, counter: (this.vector.get(replica) ?? 0) + 1 };
    this.vector.set(replica, dot.counter);
    return dot;
  }

  add(dot: Dot): void {
    assert(Number.isSafeInteger(dot.counter) && dot.counter > 0, 'dot counters start at 1');
    if (this.has(dot)) return;
    const key = dotKey(dot);
    this.cloud.add(key);
    this.cloudDots.set(key, dot);
    this.compact();
  }

  /** Adds many dots with one compaction at the end (a single add compacts every time). */
  addAll(dots: Iterable<Dot>): void {
    for (const dot of dots) if (!this.has(dot)) this.addToCloud(dot);
    this.compact();
  }

  join(other: CausalContext): void {
    for (const [replica, counter] of other.vector)
      if (counter > (this.vector.get(replica) ?? 0)) this.vector.set(replica, counter);
    for (const dot of other.cloudDots.values()) if (!this.has(dot)) this.addToCloud(dot);
    this.compact();
  }

  /**
   * Moves cloud dots that became contiguous into the vector; drops the ones it covers. Each
   * replica's dots are folded in counter order, O(n log n): one pass per folded dot made a
   * descending run of n dots cost n² (a delta of a few MB held the event loop for minutes).
   */
  compact(): void {
    if (this.cloudDots.size === 0) return;
    const byReplica = new Map<string, Dot[]>();
    for (const dot of this.cloudDots.values()) {
      const dots = byReplica.get(dot.replica);
      if (dots) dots.push(dot);
      else byReplica.set(dot.replica, [dot]);
    }
    for (const [replica, dots] of byReplica) {
      const before = this.vector.get(replica) ?? 0;
      let known = before;
      for (const dot of dots.sort((a, b) => a.counter - b.counter)) {
        if (dot.counter === known + 1) known = dot.counter;
        if (dot.counter <= known) {
          const key = dotKey(dot);
          this.cloudDots.delete(key);
          this.cloud.delete(key);
        }
      }
      if (known > before) this.vector.set(replica, known);
    }
  }

  clone(): CausalContext {
    const copy = new CausalContext();
    for (const [replica, counter] of this.vector) copy.vector.set(replica, counter);
    for (const dot of this.cloudDots.values()) copy.addToCloud(dot);
    return copy;
  }

  dots(): Dot[] {
    return [...this.cloudDots.values()];
  }

  private addToCloud(dot: Dot): void {
    const key = dotKey(dot);
    this.cloud.add(key);
    this.cloudDots.set(key, dot);
  }
}

/** Version vectors: the partial order of causal histories. */
export type VersionVector = ReadonlyMap<string, number>;
export type Causality = 'equal' | 'before' | 'after' | 'concurrent';

export function compareVersionVectors(a: VersionVector, b: VersionVector): Causality {
  let aAhead = false;
  let bAhead = false;
  for (const replica of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(replica) ?? 0;
    const y = b.get(replica) ?? 0;
    if (x > y) aAhead = true;
    if (y > x) bAhead = true;
  }
  if (aAhead && bAhead) return 'concurrent';
  if (aAhead) return 'after';
  if (bAhead) return 'before';
  return 'equal';
}

export function mergeVersionVectors(a: VersionVector, b: VersionVector): Map<string, number> {
  const out = new Map(a);
  for (const [replica, counter] of b)
    if (counter > (out.get(replica) ?? 0)) out.set(replica, counter);
  return out;
}
