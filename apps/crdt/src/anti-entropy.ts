import { CrdtObject, Hlc, LWWRegister, ORSet, PNCounter, compareHlc } from '@parley/crdt';

/**
 * Anti-entropy digests carry, per object, a hash of the state and its version: the slots of
 * a counter, the causal-context vector of a set, the timestamp of a flag. From a peer's version
 * we compute what it lacks and send only that; when versions are equal but hashes differ (a
 * set removal of something the peer has seen), the full state is the fallback.
 */
export type Version = unknown;

export function versionOf(value: CrdtObject): Version {
  if (value instanceof PNCounter) return value.toJSON();
  if (value instanceof ORSet) return [...value.context.vector];
  return (value as LWWRegister).ts ?? null;
}

function slots(raw: unknown): Map<string, number> | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const out = new Map<string, number>();
  for (const [replica, n] of Object.entries(raw))
    if (typeof n === 'number' && Number.isSafeInteger(n)) out.set(replica, n);
  return out;
}

function vector(raw: unknown): Map<string, number> | undefined {
  if (!Array.isArray(raw)) return undefined;
  const out = new Map<string, number>();
  for (const pair of raw)
    if (Array.isArray(pair) && typeof pair[0] === 'string' && Number.isSafeInteger(pair[1]))
      out.set(pair[0], pair[1] as number);
  return out;
}

/**
 * What to send a peer whose version of this object is `theirs`: a delta, the full state, or
 * nothing (the peer is ahead, and will send to us). An unreadable version gets the full state.
 */
export function whatPeerLacks(mine: CrdtObject, theirs: Version): CrdtObject | undefined {
  if (mine instanceof PNCounter) {
    const v = theirs as { p?: unknown; n?: unknown } | null;
    const p = slots(v?.p);
    const n = slots(v?.n);
    if (!p || !n) return mine;
    const delta = mine.deltaSince({ p, n });
    return delta.isEmpty() ? undefined : delta;
  }
  if (mine instanceof ORSet) {
    const seen = vector(theirs);
    if (!seen) return mine;
    if (mine.isAheadOf(seen)) return mine.deltaSince(seen);
    const peerAhead = [...seen].some(([replica, n]) => n > (mine.context.vector.get(replica) ?? 0));
    return peerAhead ? undefined : mine; // equal vectors, different states: full-state fallback
  }
  const register = mine as LWWRegister;
  if (!register.ts) return undefined;
  const ts = theirs as Hlc | null;
  const valid =
    ts !== null &&
    typeof ts === 'object' &&
    Number.isSafeInteger(ts.wallMs) &&
    Number.isSafeInteger(ts.logical) &&
    typeof ts.node === 'string';
  return !valid || compareHlc(register.ts, ts) > 0 ? register : undefined;
}
