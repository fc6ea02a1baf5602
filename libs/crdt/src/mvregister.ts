import { CausalContext, Dot, dotKey } from './dots';
import { JsonValue } from './lww';
import { sortDots } from './orset';

/**
 * Multi-value register: a write replaces every value it has seen; concurrent writes are all
 * kept until a later write (which has seen them) supersedes them. Same dot-store join as the
 * OR-Set, with one value per dot.
 */
export class MVRegister {
  readonly entries = new Map<string, { dot: Dot; value: JsonValue }>();
  readonly context = new CausalContext();

  values(): JsonValue[] {
    return sortDots([...this.entries.values()].map((e) => e.dot)).map(
      (dot) => this.entries.get(dotKey(dot))!.value,
    );
  }

  write(replica: string, value: JsonValue): MVRegister {
    const dot = this.context.next(replica);
    const delta = new MVRegister();
    for (const entry of this.entries.values()) delta.context.add(entry.dot);
    delta.context.add(dot);
    delta.entries.set(dotKey(dot), { dot, value });
    this.entries.clear();
    this.entries.set(dotKey(dot), { dot, value });
    return delta;
  }

  merge(other: MVRegister): void {
    for (const [key, entry] of [...this.entries])
      if (!other.entries.has(key) && other.context.has(entry.dot)) this.entries.delete(key);
    for (const [key, entry] of other.entries)
      if (!this.entries.has(key) && !this.context.has(entry.dot)) this.entries.set(key, entry);
    this.context.join(other.context);
  }

  clone(): MVRegister {
    const copy = new MVRegister();
    copy.merge(this);
    return copy;
  }

  toJSON() {
    return {
      entries: sortDots([...this.entries.values()].map((e) => e.dot)).map((dot) => ({
        dot,
        value: this.entries.get(dotKey(dot))!.value,
      })),
      context: {
        vector: [...this.context.vector].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        cloud: sortDots(this.context.dots()),
      },
    };
  }
}
