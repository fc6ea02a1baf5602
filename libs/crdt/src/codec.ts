import { CausalContext, Dot, dotKey } from './dots';
import { GCounter } from './gcounter';
import { Hlc } from './hlc';
import { JsonValue, LWWRegister } from './lww';
import { ORSet } from './orset';
import { PNCounter } from './pncounter';

/**
 * The replicated object kinds of the crdt app and their wire/disk form: the types' canonical
 * toJSON(), decoded back through strict validation (bounded sizes, no prototype keys, Maps for
 * every keyed collection), so a bad delta or file is an error value, never a crash.
 */
export type CrdtKind = 'counter' | 'set' | 'flag';
export type CrdtObject = PNCounter | ORSet | LWWRegister;

export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
const REPLICA_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;
const ELEMENT_BYTES_MAX = 1_024;
const ELEMENTS_MAX = 1_000_000;
const FLAG_VALUE_BYTES_MAX = 4_096;

export function emptyCrdt(kind: CrdtKind): CrdtObject {
  return kind === 'counter' ? new PNCounter() : kind === 'set' ? new ORSet() : new LWWRegister();
}

class Invalid extends Error {}

const encoder = new TextEncoder();
const utf8Length = (text: string) => encoder.encode(text).length;

function fail(what: string): never {
  throw new Invalid(what);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function counter(raw: unknown, into: GCounter): void {
  if (!isRecord(raw)) fail('counter slots must be an object');
  for (const [replica, n] of Object.entries(raw)) {
    if (!REPLICA_PATTERN.test(replica)) fail('bad replica id in counter');
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) fail('bad counter slot');
    into.counts.set(replica, n);
  }
}

function dot(raw: unknown): Dot {
  if (!isRecord(raw)) fail('a dot must be an object');
  const { replica, counter: n } = raw;
  if (typeof replica !== 'string' || !REPLICA_PATTERN.test(replica)) fail('bad dot replica');
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) fail('bad dot counter');
  return { replica, counter: n };
}

function context(raw: unknown, into: CausalContext): void {
  if (!isRecord(raw) || !Array.isArray(raw.vector) || !Array.isArray(raw.cloud))
    fail('a causal context needs vector and cloud arrays');
  const vector = new Map<string, number>();
  for (const pair of raw.vector) {
    if (!Array.isArray(pair) || pair.length !== 2) fail('bad vector entry');
    const d = dot({ replica: pair[0], counter: pair[1] });
    vector.set(d.replica, d.counter);
  }
  const cloud = raw.cloud.map(dot);
  // Straight into the target (as a join would: counters by maximum, then the cloud) rather
  // than into a context of its own joined afterwards, which keyed and sorted every dot twice.
  for (const [replica, counter] of vector)
    if (counter > (into.vector.get(replica) ?? 0)) into.vector.set(replica, counter);
  // One compaction for the whole cloud: add() compacts on every dot, n² for a large cloud.
  into.addAll(cloud);
}

function hlc(raw: unknown): Hlc {
  if (!isRecord(raw)) fail('a timestamp must be an object');
  const { wallMs, logical, node } = raw;
  if (typeof wallMs !== 'number' || !Number.isSafeInteger(wallMs) || wallMs < 0) fail('bad wallMs');
  if (typeof logical !== 'number' || !Number.isSafeInteger(logical) || logical < 0)
    fail('bad logical');
  if (typeof node !== 'string' || !REPLICA_PATTERN.test(node)) fail('bad timestamp node');
  return { wallMs, logical, node };
}

function decodeUnchecked(kind: CrdtKind, raw: unknown): CrdtObject {
  switch (kind) {
    case 'counter': {
      if (!isRecord(raw)) fail('a counter must be an object');
      const out = new PNCounter();
      counter(raw.p, out.p);
      counter(raw.n, out.n);
      return out;
    }
    case 'set': {
      if (!isRecord(raw) || !Array.isArray(raw.entries)) fail('a set needs an entries array');
      if (raw.entries.length > ELEMENTS_MAX) fail('too many elements');
      const out = new ORSet();
      context(raw.context, out.context);
      for (const entry of raw.entries) {
        if (!Array.isArray(entry) || entry.length !== 2 || !Array.isArray(entry[1]))
          fail('bad set entry');
        const element = entry[0];
        if (typeof element !== 'string' || utf8Length(element) > ELEMENT_BYTES_MAX)
          fail('a set element must be a string of at most 1 KiB');
        const dots = new Map<string, Dot>();
        for (const d of entry[1] as unknown[]) {
          const parsed = dot(d);
          dots.set(dotKey(parsed), parsed);
        }
        out.setDots(element, dots);
      }
      return out;
    }
    case 'flag': {
      if (!isRecord(raw)) fail('a flag must be an object');
      const out = new LWWRegister();
      if (raw.ts === null) return out;
      out.ts = hlc(raw.ts);
      out.value = flagValue(raw.value);
      return out;
    }
  }
}

/** A flag value: any JSON value up to 4 KiB (decoded by JSON.parse, so no prototypes). */
export function flagValue(raw: unknown): JsonValue {
  let text: string | undefined;
  try {
    text = JSON.stringify(raw);
  } catch {
    // JSON.parse accepts nesting deeper than JSON.stringify's stack: a refusal, not a crash.
    fail('a flag value must be JSON of at most 4 KiB');
  }
  if (text === undefined || utf8Length(text) > FLAG_VALUE_BYTES_MAX)
    fail('a flag value must be JSON of at most 4 KiB');
  return JSON.parse(text) as JsonValue;
}

export function decodeCrdt(
  kind: unknown,
  raw: unknown,
): { ok: true; kind: CrdtKind; value: CrdtObject } | { ok: false; error: string } {
  if (kind !== 'counter' && kind !== 'set' && kind !== 'flag')
    return { ok: false, error: `unknown crdt kind ${JSON.stringify(kind)?.slice(0, 40)}` };
  try {
    return { ok: true, kind, value: decodeUnchecked(kind, raw) };
  } catch (error) {
    if (error instanceof Invalid) return { ok: false, error: error.message };
    throw error;
  }
}

/** Joins `delta` into `target` when both are of `kind` (the store keeps kinds apart). */
export function mergeCrdt(target: CrdtObject, delta: CrdtObject): void {
  (target as { merge(other: CrdtObject): void }).merge(delta);
}
