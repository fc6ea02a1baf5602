import { CausalContext, Dot, dotKey } from './dots';

/** Above this many unseen dots, deltaSince sends the whole state instead. */
export const DELTA_DOTS_MAX = 100_000;

/**
 * Add-wins observed-remove set as a delta-state CRDT (Almeida, Shoker, Baquero): each element
 * carries the dots of the adds that put it there, and a causal context records every dot ever
 * seen. A remove is just "these dots are seen"; an add concurrent with it has a dot the remove
 * never saw, so the add wins. Removed elements leave no tombstones, only context counters.
 */
export class ORSet {
  readonly entries = new Map<string, Map<string, Dot>>();
  readonly context = new CausalContext();
  /** dot → element, so joining a small delta touches only the elements it speaks of. */
  private readonly elementOfDot = new Map<string, string>();

  has(element: string): boolean {
    return this.entries.has(element);
  }

  values(): string[] {
    return [...this.entries.keys()].sort();
  }

  add(replica: string, element: string): ORSet {
    const dot = this.context.next(replica);
    const delta = new ORSet();
    for (const old of this.entries.get(element)?.values() ?? []) delta.context.add(old);
    delta.context.add(dot);
    delta.setDots(element, new Map([[dotKey(dot), dot]]));
    this.setDots(element, new Map([[dotKey(dot), dot]]));
    return delta;
  }

  remove(element: string): ORSet {
    const delta = new ORSet();
    for (const dot of this.entries.get(element)?.values() ?? []) delta.context.add(dot);
    this.setDots(element, new Map());
    return delta;
  }

  /**
   * Keep a dot if both have it, or if the other side has not seen it (it is new there). Only
   * elements the other side could change are visited: those it holds, and those whose dots its
   * causal context covers — found through the dot index when that context is small (a delta),
   * by a full pass when it is large (a full state).
   */
  merge(other: ORSet): void {
    for (const element of this.affectedBy(other)) {
      const mine = this.entries.get(element) ?? new Map<string, Dot>();
      const theirs = other.entries.get(element) ?? new Map<string, Dot>();
      const kept = new Map<string, Dot>();
      for (const [key, dot] of mine)
        if (theirs.has(key) || !other.context.has(dot)) kept.set(key, dot);
      for (const [key, dot] of theirs)
        if (!kept.has(key) && !this.context.has(dot)) kept.set(key, dot);
      this.setDots(element, kept);
    }
    this.context.join(other.context);
  }

  private affectedBy(other: ORSet): Set<string> {
    let contextDots = other.context.cloud.size;
    for (const n of other.context.vector.values()) contextDots += n;
    if (contextDots > this.elementOfDot.size)
      return new Set([...this.entries.keys(), ...other.entries.keys()]);
    const affected = new Set(other.entries.keys());
    const note = (key: string) => {
      const element = this.elementOfDot.get(key);
      if (element !== undefined) affected.add(element);
    };
    for (const [replica, n] of other.context.vector)
      for (let counter = 1; counter <= n; counter += 1) note(dotKey({ replica, counter }));
    for (const key of other.context.cloud) note(key);
    return affected;
  }

  /** Sets the dots of one element (empty removes it); also used by the decoder. */
  setDots(element: string, dots: Map<string, Dot>): void {
    for (const key of this.entries.get(element)?.keys() ?? []) this.elementOfDot.delete(key);
    if (dots.size === 0) {
      this.entries.delete(element);
      return;
    }
    this.entries.set(element, dots);
    for (const key of dots.keys()) this.elementOfDot.set(key, element);
  }

  /**
   * What a peer whose causal context has the compact vector `seen` lacks: the add-dots it has
   * not seen, and our knowledge of dots it has not seen (removals of adds it never got). The
   * context is cut to the same dots, so the delta cannot touch anything the peer already holds.
   * Removals of dots the peer has seen are not in here: when vectors are equal but states
   * differ, anti-entropy falls back to the full state.
   */
  deltaSince(seen: ReadonlyMap<string, number>): ORSet {
    // The delta lists every unseen dot of the compact vector one by one; past a bound (a peer
    // far behind, or a counter near 2^53 from a bad peer) the full state is the cheaper delta,
    // and joining a full state is always correct.
    let gap = 0;
    for (const [replica, n] of this.context.vector)
      gap += Math.max(0, n - (seen.get(replica) ?? 0));
    if (gap > DELTA_DOTS_MAX) return this.clone();
    const unseen = (dot: Dot) => dot.counter > (seen.get(dot.replica) ?? 0);
    const delta = new ORSet();
    const contextDots: Dot[] = [];
    for (const [replica, n] of this.context.vector)
      for (let counter = (seen.get(replica) ?? 0) + 1; counter <= n; counter += 1)
        contextDots.push({ replica, counter });
    for (const dot of this.context.dots()) if (unseen(dot)) contextDots.push(dot);
    delta.context.addAll(contextDots);
    for (const [element, dots] of this.entries) {
      const fresh = new Map([...dots].filter(([, dot]) => unseen(dot)));
      if (fresh.size > 0) delta.setDots(element, fresh);
    }
    return delta;
  }

  /** True when this replica has seen dots the `seen` vector has not. */
  isAheadOf(seen: ReadonlyMap<string, number>): boolean {
    for (const [replica, n] of this.context.vector) if (n > (seen.get(replica) ?? 0)) return true;
    return this.context.dots().some((dot) => dot.counter > (seen.get(dot.replica) ?? 0));
  }

  clone(): ORSet {
    const copy = new ORSet();
    copy.merge(this);
    return copy;
  }

  toJSON(): { entries: [string, Dot[]][]; context: { vector: [string, number][]; cloud: Dot[] } } {
    return {
      entries: [...this.entries]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([element, dots]) => [element, sortDots([...dots.values()])]),
      context: {
        vector: [...this.context.vector].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        cloud: sortDots(this.context.dots()),
      },
    };
  }
}

export function sortDots(dots: Dot[]): Dot[] {
  return dots.sort((a, b) =>
    a.replica < b.replica ? -1 : a.replica > b.replica ? 1 : a.counter - b.counter,
  );
}
