import { assert } from '@parley/common';
import { Command } from './commands';
import { fingerprintLanes } from './fnv';
import { IdRing } from './id-ring';
import { WHOLE_RESULT, compactResult, expandResult } from './session-results';

/**
 * The client session table (Raft dissertation §6.3): each requestId is applied at most once,
 * and a retry within the window gets the first result back. Time is log time (the leader's
 * `ts` in every command), so every replica decides identically.
 *
 * - An id is remembered with its result for `windowMs` of log time after it was applied, and
 *   never forgotten earlier: when `idsMax` ids are inside the window, new commands are refused
 *   (back-pressure, retry later) rather than an id evicted, since eviction would let its retry
 *   apply a second time.
 * - Past the window the id moves to a horizon of `horizonIdsMax` ids kept as a 64-bit hash
 *   and a time: a retry found there is refused (window passed), never applied. The horizon
 *   drops its oldest id when full; that is where the guarantee ends for ids without a time.
 * - A requestId that is a UUIDv7 carries its own time: once that time is a window behind the
 *   log, the id is refused as too old whether or not anything remembers it.
 */
export interface SessionLimits {
  /** Log time an applied requestId is remembered with its result (milliseconds). */
  windowMs: number;
  /** Most requestIds inside the window; more new commands are refused until the oldest ages. */
  idsMax: number;
  /** Ids past the window remembered by hash and time to refuse their retries (0: none). */
  horizonIdsMax: number;
}

/** Ten minutes, and room for 6,666 writes/s through it (the 5,000/s the contract asks, +33%). */
export const DEFAULT_SESSION_LIMITS: SessionLimits = {
  windowMs: 10 * 60 * 1000,
  idsMax: 4_000_000,
  horizonIdsMax: 4_000_000,
};

/** A command the session table refuses: nothing was applied. */
export type SessionRefusal =
  | { status: 'refused'; reason: 'idempotency-key-reuse'; requestId: string }
  | {
      status: 'refused';
      reason: 'idempotency-window-passed';
      requestId: string;
      windowMs: number;
    }
  | { status: 'refused'; reason: 'idempotency-ids-full'; retryAfterMs: number };

type Stamped = Exclude<Command, { type: 'clock' } | { type: 'mirror.cursor' }>;

export type SessionVerdict =
  | { kind: 'apply' }
  | { kind: 'replay'; result: unknown }
  | { kind: 'refuse'; refusal: SessionRefusal };

/** The verdict of almost every command, shared rather than made per command. */
const APPLY: SessionVerdict = Object.freeze({ kind: 'apply' });

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** The Unix milliseconds a UUIDv7 (RFC 9562) carries in its first 48 bits, else undefined. */
export function uuidV7Ms(requestId: string): number | undefined {
  if (!UUID_V7.test(requestId)) return undefined;
  return Number.parseInt(requestId.slice(0, 8) + requestId.slice(9, 13), 16);
}

/** Columns of a live session beyond its id hash and time. */
const FP_HI = 0;
const FP_LO = 1;
const INDEX = 0;
const ARG_A = 1;
const ARG_B = 2;
export const LIVE_LAYOUT = { words: 2, numbers: 3, bytes: 1 } as const;
export const PAST_LAYOUT = { words: 0, numbers: 0, bytes: 0 } as const;

export class Sessions {
  /** Ids inside the window, with their fingerprint, log index and compact result. */
  readonly live: IdRing;
  /** Ids past the window: hash and time only. */
  readonly past: IdRing;
  /** Results no compact form fits, by the log index they were applied at. */
  readonly wholeResults = new Map<number, unknown>();

  constructor(readonly limits: SessionLimits) {
    assert(limits.windowMs > 0 && limits.idsMax > 0 && limits.horizonIdsMax >= 0, 'limits');
    this.live = new IdRing(LIVE_LAYOUT, limits.idsMax);
    this.past = new IdRing(PAST_LAYOUT, limits.horizonIdsMax);
  }

  /** Moves every id whose window has passed at log time `now` to the horizon. */
  evict(now: number): void {
    const { live, past } = this;
    while (live.size > 0 && live.oldestTs() + this.limits.windowMs <= now) {
      const p = live.at(0);
      if (live.bytes[p] === WHOLE_RESULT) this.wholeResults.delete(live.numbers[p * 3 + INDEX]);
      if (this.limits.horizonIdsMax > 0) {
        if (past.size >= this.limits.horizonIdsMax) past.shift();
        past.push(live.hashHi[p], live.hashLo[p], live.ts[p]);
      }
      live.shift();
    }
  }

  /**
   * What to do with `command` at log time `now` (after `evict(now)`): replay the remembered
   * result, refuse it, or apply it. `print` is the 64-bit fingerprint of its body.
   */
  judge(command: Stamped, print: [number, number], now: number): SessionVerdict {
    const [hi, lo] = this.idLanes(command.requestId);
    const { live, limits } = this;
    const p = live.find(hi, lo);
    if (p >= 0) {
      const reuse = (): SessionVerdict => ({
        kind: 'refuse',
        refusal: {
          status: 'refused',
          reason: 'idempotency-key-reuse',
          requestId: command.requestId,
        },
      });
      if (live.words[p * 2 + FP_HI] !== print[0] || live.words[p * 2 + FP_LO] !== print[1])
        return reuse();
      const result = this.resultAt(p, command);
      return result === undefined ? reuse() : { kind: 'replay', result };
    }
    const dated = uuidV7Ms(command.requestId);
    if (this.past.find(hi, lo) >= 0 || (dated !== undefined && dated + limits.windowMs <= now))
      return {
        kind: 'refuse',
        refusal: {
          status: 'refused',
          reason: 'idempotency-window-passed',
          requestId: command.requestId,
          windowMs: limits.windowMs,
        },
      };
    if (live.size >= limits.idsMax)
      return {
        kind: 'refuse',
        refusal: {
          status: 'refused',
          reason: 'idempotency-ids-full',
          retryAfterMs: Math.max(1, live.oldestTs() + limits.windowMs - now),
        },
      };
    return APPLY;
  }

  /** Remembers an applied command and its result. */
  record(command: Stamped, print: [number, number], index: number, ts: number, result: unknown) {
    const [hi, lo] = this.idLanes(command.requestId);
    const p = this.live.push(hi, lo, ts);
    const compact = compactResult(command, index, result);
    this.fill(p, print, index, compact);
    if (compact.code === WHOLE_RESULT) this.wholeResults.set(index, result);
  }

  /** The requestId judged last and its hash: record() follows judge() for the same command. */
  private lastId: string | undefined;
  private lastIdHash: [number, number] = [0, 0];

  private idLanes(requestId: string): [number, number] {
    if (requestId !== this.lastId) {
      this.lastIdHash = fingerprintLanes(requestId);
      this.lastId = requestId;
    }
    return this.lastIdHash;
  }

  /** Fills a live entry's columns (also used by snapshot restore). */
  fill(
    p: number,
    print: readonly [number, number],
    index: number,
    compact: { code: number; a: number; b: number },
  ): void {
    const { live } = this;
    live.words[p * 2 + FP_HI] = print[0];
    live.words[p * 2 + FP_LO] = print[1];
    live.numbers[p * 3 + INDEX] = index;
    live.numbers[p * 3 + ARG_A] = compact.a;
    live.numbers[p * 3 + ARG_B] = compact.b;
    live.bytes[p] = compact.code;
  }

  private resultAt(p: number, command: Stamped): unknown {
    const { live } = this;
    const index = live.numbers[p * 3 + INDEX];
    const code = live.bytes[p];
    if (code === WHOLE_RESULT) return this.wholeResults.get(index);
    return expandResult(
      code,
      command,
      index,
      live.numbers[p * 3 + ARG_A],
      live.numbers[p * 3 + ARG_B],
    );
  }

  /** Bytes held by the session table's arrays (the benchmark's memory figure). */
  get bytesHeld(): number {
    return this.live.bytesHeld + this.past.bytesHeld;
  }
}
