import { CausalContext, Dot, dotKey } from './dots';

/**
 * Add-wins observed-remove set as a delta-state CRDT (Almeida, Shoker, Baquero): each element
 * carries the dots of the adds that put it there, and a causal context records every dot ever
 * seen. A remove is just "these dots are seen"; an add concurrent with it has a dot the remove
 * never saw, so the add wins. Removed elements leave no tombstones, only context counters.
 */
export class ORSet {
  readonly entries = new Map<string, Map<string, Dot>>();
  readonly context = new CausalContext();

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
    delta.entries.set(element, new Map([[dotKey(dot), dot]]));
    this.entries.set(element, new Map([[dotKey(dot), dot]]));
    return delta;
  }

  remove(element: string): ORSet {
    const delta = new ORSet();
    for (const dot of this.entries.get(element)?.values() ?? []) delta.context.add(dot);
    this.entries.delete(element);
    return delta;
  }

  /** Keep a dot if both have it, or if the other side has not seen it (it is new there). */
  merge(other: ORSet): void {
    const elements = new Set([...this.entries.keys(), ...other.entries.keys()]);
    for (const element of elements) {
      const mine = this.entries.get(element) ?? new Map<string, Dot>();
      const theirs = other.entries.get(element) ?? new Map<string, Dot>();
      const kept = new Map<string, Dot>();
      for (const [key, dot] of mine)
        if (theirs.has(key) || !other.context.has(dot)) kept.set(key, dot);
      for (const [key, dot] of theirs)
        if (!kept.has(key) && !this.context.has(dot)) kept.set(key, dot);
      if (kept.size > 0) this.entries.set(element, kept);
      else this.entries.delete(element);
    }
    this.context.join(other.context);
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
