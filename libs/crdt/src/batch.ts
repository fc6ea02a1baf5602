import { JsonValue } from './lww';
import { NAME_PATTERN, flagValue } from './codec';

/**
 * One eventual write, as the REST routes take it and as a Kafka record carries it. The crdt
 * replica applies a list of them as one batch (POST /v1/crdt/batches).
 */
export type CrdtWrite =
  | { op: 'increment'; name: string; delta: number }
  | { op: 'set-add'; name: string; element: string }
  | { op: 'set-remove'; name: string; element: string }
  | { op: 'flag'; name: string; value: JsonValue };

/** The largest |delta| of one increment, and so of a folded sum of increments too. */
export const INCREMENT_ABS_MAX = 1_000_000_000_000;
export const SET_ELEMENT_BYTES_MAX = 1_024;
/** The most writes one batch may carry. */
export const CRDT_BATCH_WRITES_MAX = 10_000;
const SOURCE_PATTERN = /^[A-Za-z0-9._:/-]{1,256}$/;

/**
 * A batch of writes from one source partition (`source`, e.g. `agent-events/2`) covering its
 * offsets `from`..`through`: the replica applies it once. It records `through` with the deltas
 * (one log record), skips a batch it already holds, and refuses one that overlaps what it holds
 * (the sender re-folds what lies beyond), so a batch delivered again after a consumer restart or
 * a rebalance adds nothing.
 */
export interface CrdtBatch {
  source: string;
  from: number;
  through: number;
  writes: CrdtWrite[];
}

/** The replica's answer to a batch (HTTP status in parentheses). */
export type CrdtBatchAnswer =
  /** (200) applied now (`applied: true`) or held already (`applied: false`). */
  | { applied: boolean; through: number }
  /** (409) part of the range is held already: `through` is the last offset held. */
  | { overlap: true; through: number }
  /** (400, 507) write `index` is refused for good (invalid, or no room): nothing was applied. */
  | { refused: true; index: number; reason: string };

/**
 * Eventual writes of concurrent REST callers, gathered by decision-api into one call
 * (POST /v1/crdt/writes, body `{ writes }`): no source offsets, each write answered on its own.
 */
export const CRDT_WRITES_MAX = 200;

/**
 * The replica's answer to one write of such a call, as the REST route answers it: 202 once on
 * this replica's disk, 400 invalid (with why), 507 no room for another object.
 */
export type CrdtWriteAnswer = { status: 202 } | { status: 400 | 507; message: string };

/**
 * The same call in-process: a decision-api that runs in one node process with a crdt replica
 * hands it the `{ writes }` body directly, without the HTTP hop, and gets the same answers (or a
 * rejection where the route would answer 400 to the whole body).
 */
export interface LocalCrdtWrites {
  writes(body: { writes: CrdtWrite[] }): Promise<{ answers: CrdtWriteAnswer[] }>;
}

/** Each write of a `{ writes }` body checked on its own: a valid write, or why it is not. */
export function parseCrdtWrites(
  raw: unknown,
): { ok: true; writes: (CrdtWrite | { invalid: string })[] } | { ok: false; reason: string } {
  const writes = (raw as { writes?: unknown } | null)?.writes;
  if (!Array.isArray(writes) || writes.length > CRDT_WRITES_MAX)
    return { ok: false, reason: `writes must be an array of at most ${CRDT_WRITES_MAX}` };
  return {
    ok: true,
    writes: writes.map((write) => {
      try {
        return checkWrite(write);
      } catch (error) {
        return { invalid: (error as Error).message };
      }
    }),
  };
}

export function checkDelta(raw: unknown): number {
  if (typeof raw !== 'number' || !Number.isSafeInteger(raw) || Math.abs(raw) > INCREMENT_ABS_MAX)
    throw new Error('delta must be an integer between -1e12 and 1e12');
  return raw;
}

export function checkElement(raw: unknown): string {
  if (typeof raw !== 'string' || raw.length === 0 || Buffer.byteLength(raw) > SET_ELEMENT_BYTES_MAX)
    throw new Error('element must be a non-empty string of at most 1 KiB');
  return raw;
}

export function checkName(raw: unknown): string {
  if (typeof raw !== 'string' || !NAME_PATTERN.test(raw))
    throw new Error('name must be 1-128 characters [A-Za-z0-9_.:-], starting alphanumeric');
  return raw;
}

/** A write checked as the replica checks it; throws an Error naming what is wrong. */
export function checkWrite(raw: unknown): CrdtWrite {
  if (typeof raw !== 'object' || raw === null) throw new Error('a write must be an object');
  const write = raw as Record<string, unknown>;
  const name = checkName(write.name);
  switch (write.op) {
    case 'increment':
      return { op: 'increment', name, delta: checkDelta(write.delta) };
    case 'set-add':
    case 'set-remove':
      return { op: write.op, name, element: checkElement(write.element) };
    case 'flag':
      if (write.value === undefined) throw new Error('value is required');
      return { op: 'flag', name, value: flagValue(write.value) };
    default:
      throw new Error('op must be increment, set-add, set-remove or flag');
  }
}

const offset = (raw: unknown) => typeof raw === 'number' && Number.isSafeInteger(raw) && raw >= 0;

/**
 * A batch from the wire, checked: the batch itself (an error without index) or the first
 * invalid write (its index), so the sender can dead-letter exactly the records behind it.
 */
export function parseCrdtBatch(
  raw: unknown,
): { ok: true; batch: CrdtBatch } | { ok: false; index?: number; reason: string } {
  if (typeof raw !== 'object' || raw === null) return { ok: false, reason: 'not an object' };
  const { source, from, through, writes } = raw as Record<string, unknown>;
  if (typeof source !== 'string' || !SOURCE_PATTERN.test(source))
    return { ok: false, reason: 'source must be 1-256 characters [A-Za-z0-9._:/-]' };
  if (!offset(from) || !offset(through) || (through as number) < (from as number))
    return { ok: false, reason: 'from and through must be offsets with from <= through' };
  if (!Array.isArray(writes) || writes.length > CRDT_BATCH_WRITES_MAX)
    return { ok: false, reason: `writes must be an array of at most ${CRDT_BATCH_WRITES_MAX}` };
  const checked: CrdtWrite[] = [];
  for (let index = 0; index < writes.length; index += 1) {
    try {
      checked.push(checkWrite(writes[index]));
    } catch (error) {
      return { ok: false, index, reason: (error as Error).message };
    }
  }
  return {
    ok: true,
    batch: { source, from: from as number, through: through as number, writes: checked },
  };
}
