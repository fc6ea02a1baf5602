import { Hlc, compareHlc } from './hlc';

export type JsonValue =
  null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Last-writer-wins register ordered by a hybrid logical clock (node id breaks ties). */
export class LWWRegister {
  value: JsonValue | undefined;
  ts: Hlc | undefined;

  set(value: JsonValue, ts: Hlc): LWWRegister {
    const delta = new LWWRegister();
    delta.value = value;
    delta.ts = ts;
    this.merge(delta);
    return delta;
  }

  merge(other: LWWRegister): void {
    if (other.ts && (!this.ts || compareHlc(other.ts, this.ts) > 0)) {
      this.value = other.value;
      this.ts = other.ts;
    }
  }

  clone(): LWWRegister {
    const copy = new LWWRegister();
    copy.merge(this);
    return copy;
  }

  toJSON(): { value: JsonValue | null; ts: Hlc | null } {
    return { value: this.value ?? null, ts: this.ts ?? null };
  }
}

/** A map of LWW registers; a remove is a timestamped tombstone, so it can lose to a later set. */
export class LWWMap {
  /** Each register holds `{v, removed}`. */
  readonly registers = new Map<string, LWWRegister>();

  get(key: string): JsonValue | undefined {
    const held = this.registers.get(key)?.value as { v: JsonValue; removed: boolean } | undefined;
    return held && !held.removed ? held.v : undefined;
  }

  keys(): string[] {
    return [...this.registers.keys()].filter((k) => this.get(k) !== undefined).sort();
  }

  set(key: string, value: JsonValue, ts: Hlc): LWWMap {
    return this.write(key, { v: value, removed: false }, ts);
  }

  remove(key: string, ts: Hlc): LWWMap {
    return this.write(key, { v: null, removed: true }, ts);
  }

  private write(key: string, held: { v: JsonValue; removed: boolean }, ts: Hlc): LWWMap {
    const delta = new LWWMap();
    const register = new LWWRegister();
    register.set(held, ts);
    delta.registers.set(key, register);
    this.merge(delta);
    return delta;
  }

  merge(other: LWWMap): void {
    for (const [key, theirs] of other.registers) {
      const mine = this.registers.get(key);
      if (mine) mine.merge(theirs);
      else this.registers.set(key, theirs.clone());
    }
  }

  clone(): LWWMap {
    const copy = new LWWMap();
    copy.merge(this);
    return copy;
  }

  toJSON(): [string, { value: JsonValue | null; ts: Hlc | null }][] {
    return [...this.registers]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, register]) => [key, register.toJSON()]);
  }
}
