import {
  CrdtKind,
  CrdtObject,
  HlcClock,
  NAME_PATTERN,
  JsonValue,
  LWWRegister,
  ORSet,
  PNCounter,
  decodeCrdt,
  emptyCrdt,
  mergeCrdt,
} from '@parley/crdt';
import { createHash } from 'node:crypto';
import { versionOf } from './anti-entropy';

export interface Held {
  kind: CrdtKind;
  value: CrdtObject;
  /** SHA-256 of the canonical state, for anti-entropy digests; cleared on every change. */
  hash?: string;
}

/** Object keys are `<kind>/<name>`, so a counter and a set may share a name. */
export function objectKey(kind: CrdtKind, name: string): string {
  return `${kind}/${name}`;
}

/**
 * The replica's objects: local mutations return the delta to persist and publish; deltas and
 * full states from peers are joined in. Bounded in number of objects.
 */
export class ReplicaStore {
  private readonly objects = new Map<string, Held>();
  private readonly clock: HlcClock;

  constructor(
    readonly replicaId: string,
    private readonly objectsMax: number,
  ) {
    this.clock = new HlcClock(replicaId);
  }

  /**
   * The position of the first key that would need an object beyond the bound (each key not
   * held yet takes one), or undefined when they all fit: a batch is refused before any change.
   */
  firstBeyondBound(keys: readonly string[]): number | undefined {
    const added = new Set<string>();
    for (let i = 0; i < keys.length; i += 1) {
      if (this.objects.has(keys[i]) || added.has(keys[i])) continue;
      added.add(keys[i]);
      if (this.objects.size + added.size > this.objectsMax) return i;
    }
    return undefined;
  }

  get size(): number {
    return this.objects.size;
  }

  get(kind: CrdtKind, name: string): CrdtObject | undefined {
    return this.objects.get(objectKey(kind, name))?.value;
  }

  increment(name: string, amount: number): CrdtObject {
    return (this.hold('counter', name) as PNCounter).increment(this.replicaId, amount);
  }

  addElement(name: string, element: string): CrdtObject {
    return (this.hold('set', name) as ORSet).add(this.replicaId, element);
  }

  removeElement(name: string, element: string): CrdtObject {
    return (this.hold('set', name) as ORSet).remove(element);
  }

  setFlag(name: string, value: JsonValue, nowMs: number): CrdtObject {
    return (this.hold('flag', name) as LWWRegister).set(value, this.clock.now(nowMs));
  }

  /** Joins a delta or a full state received from a peer, or replayed from disk. */
  join(
    key: string,
    kind: unknown,
    raw: unknown,
    nowMs: number,
  ): { ok: true } | { ok: false; error: string } {
    const at = key.indexOf('/');
    const name = key.slice(at + 1);
    if (at < 0 || key.slice(0, at) !== kind) return { ok: false, error: 'key does not match kind' };
    if (!NAME_PATTERN.test(name)) return { ok: false, error: 'bad object name' };
    const decoded = decodeCrdt(kind, raw);
    if (!decoded.ok) return decoded;
    const held = this.hold(decoded.kind, name);
    mergeCrdt(held, decoded.value);
    if (decoded.value instanceof LWWRegister && decoded.value.ts)
      this.clock.observe(decoded.value.ts, nowMs);
    return { ok: true };
  }

  /** key, hash and version of every object, for anti-entropy digests. */
  digests(): [string, string, unknown][] {
    const out: [string, string, unknown][] = [];
    for (const [key, held] of this.objects)
      out.push([key, this.hashOf(key)!, versionOf(held.value)]);
    return out;
  }

  hashOf(key: string): string | undefined {
    const held = this.objects.get(key);
    if (!held) return undefined;
    held.hash ??= createHash('sha256').update(JSON.stringify(held.value.toJSON())).digest('base64');
    return held.hash;
  }

  entry(key: string): Held | undefined {
    return this.objects.get(key);
  }

  snapshot(): Record<string, { kind: CrdtKind; state: unknown }> {
    const out: Record<string, { kind: CrdtKind; state: unknown }> = {};
    for (const [key, held] of this.objects)
      out[key] = { kind: held.kind, state: held.value.toJSON() };
    return out;
  }

  private hold(kind: CrdtKind, name: string): CrdtObject {
    const key = objectKey(kind, name);
    let held = this.objects.get(key);
    if (!held) {
      if (this.objects.size >= this.objectsMax)
        throw new StoreFullError(`this replica holds ${this.objectsMax} objects already`);
      held = { kind, value: emptyCrdt(kind) };
      this.objects.set(key, held);
    }
    held.hash = undefined;
    return held.value;
  }
}

export class StoreFullError extends Error {}
