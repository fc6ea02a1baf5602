import { assert } from '@parley/common';
import { BINARY_COMMAND_FORMAT, decodeBinaryCommand, encodeBinaryCommand } from './binary-command';
import { Command, validateCommand } from './commands';
import { CRC32_START, crc32, crc32Finish, crc32Update, fingerprintLanes } from './fnv';
import { RESULT_CODES_MAX, WHOLE_RESULT } from './session-results';
import { FrozenSessionColumns, entryBytes } from './session-columns';
import { LIVE_LAYOUT, Sessions } from './sessions';
import { Proposal } from './proposals';
import { DecisionStateMachine, StateMachineOptions } from './state-machine';

/**
 * Encodings of the decision state machine: commands as log entries (a format byte, then JSON
 * or the binary form of binary-command.ts)
 * and whole-state snapshots ("PRLYDSM" + version byte + CRC-32 + canonical JSON, then the
 * session table's columns as raw arrays: see snapshotSteps). Decoders validate everything and
 * answer errors as values; JSON.parse only ever builds plain data, and all state is rebuilt
 * into Maps and typed arrays, so no input can reach a prototype.
 */
/** Commands as JSON text; the binary form is format 2. */
const COMMAND_FORMAT = 1;
const COMMAND_BYTES_MAX = 1024 * 1024;
const MAGIC = [0x50, 0x52, 0x4c, 0x59, 0x44, 0x53, 0x4d]; // "PRLYDSM"
/** Version 1 (sessions as JSON tuples) is still read. */
const SNAPSHOT_VERSION = 2;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * How a replica writes the commands it proposes. Every replica reads both; `json` is for a
 * rolling upgrade from a version that reads only JSON (format 1), until every replica runs
 * this one.
 */
export type CommandFormat = 'binary' | 'json';

export function encodeCommand(command: Command, format: CommandFormat = 'binary'): Uint8Array {
  if (format === 'binary') {
    const binary = encodeBinaryCommand(command);
    if (binary !== undefined) return binary;
  }
  const json = encoder.encode(JSON.stringify(command));
  const out = new Uint8Array(json.length + 1);
  out[0] = COMMAND_FORMAT;
  out.set(json, 1);
  return out;
}

/**
 * A log entry's command, validated, with the fingerprint the binary form carries (absent for
 * JSON: the state machine computes it).
 */
export function decodeCommand(
  bytes: Uint8Array,
): { ok: true; command: Command; print?: [number, number] } | { ok: false; error: string } {
  if (bytes.length === 0 || bytes.length > COMMAND_BYTES_MAX)
    return { ok: false, error: `command of ${bytes.length} bytes` };
  let raw: unknown;
  let print: [number, number] | undefined;
  if (bytes[0] === BINARY_COMMAND_FORMAT) {
    const decoded = decodeBinaryCommand(bytes);
    if (!decoded.ok) return decoded;
    raw = decoded.raw;
    print = decoded.print;
  } else if (bytes[0] === COMMAND_FORMAT) {
    try {
      raw = JSON.parse(decoder.decode(bytes.subarray(1)));
    } catch {
      return { ok: false, error: 'command is not UTF-8 JSON' };
    }
  } else {
    return { ok: false, error: `unknown command format ${bytes[0]}` };
  }
  const validated = validateCommand(raw);
  if (!validated.ok) return { ok: false, error: validated.errors.join('; ') };
  return print === undefined
    ? { ok: true, command: validated.value }
    : { ok: true, command: validated.value, print };
}

const byKey = <V>(map: Map<string, V>): [string, V][] =>
  [...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

/** Bytes checksummed, and session entries written, per step of a stepwise snapshot. */
const BYTES_PER_STEP = 1024 * 1024;
const ENTRIES_PER_STEP = 16 * 1024;
/** Typed arrays are written as they lie in memory: the format is little-endian. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function encodeSnapshot(sm: DecisionStateMachine): Uint8Array {
  const steps = snapshotSteps(sm);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * The snapshot of `sm` as it is when the first step runs, produced in bounded steps so a
 * replica can keep its event loop (heartbeats, replication) going between them. Version 2:
 * "PRLYDSM", version byte, CRC-32 of the rest, then the length of a canonical JSON part (all
 * state but the session table's columns), the JSON, and the session columns as raw
 * little-endian arrays (millions of remembered ids as JSON took a second per million to
 * write and read; as columns they are a copy). The first step serializes the JSON part and
 * captures the columns (see FrozenSessionColumns); later steps write 16 Ki entries or
 * checksum 1 MiB each.
 */
export function* snapshotSteps(sm: DecisionStateMachine): Generator<void, Uint8Array, void> {
  assert(LITTLE_ENDIAN, 'snapshots are written on little-endian machines only');
  const state = {
    logTime: sm.logTime,
    mirroredIndex: sm.mirroredIndex,
    kv: byKey(sm.kv.entries).map(([k, e]) => [k, e.value, e.version, e.index]),
    graves: byKey(sm.kv.graves),
    inventory: byKey(sm.inventory.skus).map(([k, s]) => [
      k,
      s.available,
      s.reserved,
      byKey(s.reservations),
    ]),
    budgets: byKey(sm.budgets.campaigns).map(([k, b]) => [k, b.limit, b.spent, [...b.bids].sort()]),
    proposals: byKey(sm.proposals.proposals).map(([k, p]) => [
      k,
      p.options,
      p.policy,
      p.deadline,
      p.status,
      p.outcome,
      [...p.votes],
    ]),
    sessions: {
      live: sm.sessions.live.size,
      past: sm.sessions.past.size,
      // Map order is insertion (apply) order: the same on every replica.
      whole: [...sm.sessions.wholeResults].map(([index, result]) => [
        index,
        JSON.stringify(result),
      ]),
    },
  };
  const json = encoder.encode(JSON.stringify(state));
  const { live, past } = sm.sessions;
  const columnBytes = live.size * entryBytes(live) + past.size * entryBytes(past);
  const headerBytes = MAGIC.length + 1 + 4;
  // Allocated now, filled step by step: its pages are touched a chunk at a time.
  const out = new Uint8Array(headerBytes + 4 + json.length + columnBytes);
  out.set(MAGIC, 0);
  out[MAGIC.length] = SNAPSHOT_VERSION;
  const view = new DataView(out.buffer);
  view.setUint32(headerBytes, json.length, true);
  out.set(json, headerBytes + 4);
  const columns = new FrozenSessionColumns([live, past], out, headerBytes + 4 + json.length);
  assert(columns.byteLength === out.length, 'snapshot length');
  do yield;
  while (!columns.step(ENTRIES_PER_STEP));
  let crc = CRC32_START;
  for (let from = headerBytes; from < out.length; from += BYTES_PER_STEP) {
    yield;
    crc = crc32Update(crc, out.subarray(from, from + BYTES_PER_STEP));
  }
  view.setUint32(MAGIC.length + 1, crc32Finish(crc));
  return out;
}

class SnapshotError extends Error {}

function need(condition: boolean, what: string): void {
  if (!condition) throw new SnapshotError(what);
}
const isInt = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
const isStr = (v: unknown) => typeof v === 'string';
const tuples = (v: unknown, what: string): unknown[][] => {
  need(Array.isArray(v) && v.every(Array.isArray), `${what} is not a list of tuples`);
  return v as unknown[][];
};

export function decodeSnapshot(
  bytes: Uint8Array,
  options?: StateMachineOptions,
): { ok: true; sm: DecisionStateMachine } | { ok: false; error: string } {
  try {
    need(bytes.length >= MAGIC.length + 5, 'snapshot too short');
    need(
      MAGIC.every((b, i) => bytes[i] === b),
      'not a decision snapshot (bad magic)',
    );
    const version = bytes[MAGIC.length];
    need(version === 1 || version === SNAPSHOT_VERSION, `unsupported snapshot version ${version}`);
    const payload = bytes.subarray(MAGIC.length + 5);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    need(view.getUint32(MAGIC.length + 1) === crc32(payload), 'snapshot checksum mismatch');
    let json: Uint8Array = payload;
    let columns: Uint8Array = new Uint8Array(0);
    if (version === SNAPSHOT_VERSION) {
      need(payload.length >= 4, 'snapshot too short');
      const jsonLength = view.getUint32(MAGIC.length + 5, true);
      need(jsonLength <= payload.length - 4, 'snapshot JSON length beyond its end');
      json = payload.subarray(4, 4 + jsonLength);
      columns = payload.subarray(4 + jsonLength);
    }
    let raw: unknown;
    try {
      raw = JSON.parse(decoder.decode(json));
    } catch {
      throw new SnapshotError('snapshot payload is not UTF-8 JSON');
    }
    need(
      typeof raw === 'object' && raw !== null && !Array.isArray(raw),
      'snapshot payload is not an object',
    );
    const s = raw as Record<string, unknown>;
    const sm = new DecisionStateMachine(options);
    need(isInt(s.logTime), 'logTime');
    sm.logTime = s.logTime as number;
    // Snapshots written before the Kafka mirror existed carry no cursor: nothing was mirrored.
    need(s.mirroredIndex === undefined || isInt(s.mirroredIndex), 'mirroredIndex');
    sm.mirroredIndex = (s.mirroredIndex as number | undefined) ?? 0;
    for (const [k, value, version, index] of tuples(s.kv, 'kv')) {
      need(isStr(k) && isStr(value) && isInt(version) && isInt(index), 'kv entry');
      sm.kv.entries.set(k as string, {
        value: value as string,
        version: version as number,
        index: index as number,
      });
    }
    for (const [k, version] of tuples(s.graves, 'graves')) {
      need(isStr(k) && isInt(version), 'grave');
      sm.kv.graves.set(k as string, version as number);
    }
    for (const [k, available, reserved, reservations] of tuples(s.inventory, 'inventory')) {
      need(isStr(k) && isInt(available) && isInt(reserved), 'inventory entry');
      const live = new Map<string, number>();
      for (const [order, qty] of tuples(reservations, 'reservations')) {
        need(isStr(order) && isInt(qty), 'reservation');
        live.set(order as string, qty as number);
      }
      need(
        [...live.values()].reduce((a, b) => a + b, 0) === reserved,
        `inventory ${String(k)}: reservations do not add up`,
      );
      sm.inventory.skus.set(k as string, {
        available: available as number,
        reserved: reserved as number,
        reservations: live,
      });
    }
    for (const [k, limit, spent, bids] of tuples(s.budgets, 'budgets')) {
      need(
        isStr(k) && isInt(limit) && isInt(spent) && Array.isArray(bids) && bids.every(isStr),
        'budget entry',
      );
      sm.budgets.campaigns.set(k as string, {
        limit: limit as number,
        spent: spent as number,
        bids: new Set(bids as string[]),
      });
    }
    for (const [k, options, policy, deadline, status, outcome, votes] of tuples(
      s.proposals,
      'proposals',
    )) {
      need(
        isStr(k) && Array.isArray(options) && options.every(isStr) && isInt(deadline),
        'proposal entry',
      );
      need(status === 'open' || status === 'decided' || status === 'expired', 'proposal status');
      need(outcome === null || isStr(outcome), 'proposal outcome');
      const check = validateCommand({
        type: 'proposal.create',
        requestId: 'snapshot',
        ts: 0,
        proposalId: k,
        options,
        policy,
      });
      need(check.ok, `proposal ${String(k)}: ${check.ok ? '' : check.errors.join('; ')}`);
      const voteMap = new Map<string, [string, number]>();
      for (const [agent, vote] of tuples(votes, 'votes')) {
        const pair = vote as unknown[];
        need(isStr(agent) && Array.isArray(pair) && isStr(pair[0]) && isInt(pair[1]), 'vote');
        voteMap.set(agent as string, [pair[0] as string, pair[1] as number]);
      }
      sm.proposals.proposals.set(k as string, {
        options: options as string[],
        policy: policy as Proposal['policy'],
        deadline: deadline as number,
        status: status as Proposal['status'],
        outcome: outcome as string | null,
        votes: voteMap,
      });
    }
    if (version === 1) restoreSessionTuples(sm.sessions, s.sessions);
    else restoreSessionColumns(sm, s.sessions, columns);
    return { ok: true, sm };
  } catch (error) {
    if (error instanceof SnapshotError) return { ok: false, error: error.message };
    if (error instanceof SyntaxError) return { ok: false, error: 'snapshot holds malformed JSON' };
    throw error;
  }
}

/** Version 1 kept sessions as `[requestId, fingerprint hex, result JSON, index, ts]`. */
function restoreSessionTuples(sessions: Sessions, list: unknown): void {
  const rows = tuples(list, 'sessions');
  sessions.live.reserve(rows.length);
  for (const [k, print, result, index, ts] of rows) {
    need(
      isStr(k) &&
        typeof print === 'string' &&
        /^[0-9a-f]{16}$/.test(print) &&
        isStr(result) &&
        isInt(index) &&
        isInt(ts),
      'session entry',
    );
    const [hi, lo] = fingerprintLanes(k as string);
    need(sessions.live.find(hi, lo) < 0, 'session entry (a requestId twice)');
    const p = sessions.live.push(hi, lo, ts as number);
    const hex = print as string;
    const fp: [number, number] = [
      Number.parseInt(hex.slice(0, 8), 16),
      Number.parseInt(hex.slice(8), 16),
    ];
    sessions.fill(p, fp, index as number, { code: WHOLE_RESULT, a: 0, b: 0 });
    sessions.wholeResults.set(index as number, JSON.parse(result as string) as unknown);
  }
}

/** Version 2: counts and whole results in the JSON, the columns as raw arrays after it. */
function restoreSessionColumns(sm: DecisionStateMachine, raw: unknown, columns: Uint8Array) {
  need(typeof raw === 'object' && raw !== null && !Array.isArray(raw), 'sessions');
  const { live: n, past: m, whole } = raw as Record<string, unknown>;
  need(isInt(n) && isInt(m), 'sessions counts');
  const liveCount = n as number;
  const pastCount = m as number;
  const { words, numbers, bytes } = LIVE_LAYOUT;
  const expected = liveCount * (4 + 4 + 8 + 4 * words + 8 * numbers + bytes) + pastCount * 16;
  need(columns.length === expected, 'session columns do not match their counts');
  let at = 0;
  // slice(), not subarray(): a Float64Array needs an 8-byte-aligned buffer of its own.
  const take = <T>(make: new (buffer: ArrayBuffer) => T, count: number, width: number): T => {
    const piece = columns.slice(at, at + count * width);
    at += count * width;
    return new make(piece.buffer);
  };
  const hashHi = take(Uint32Array, liveCount, 4);
  const hashLo = take(Uint32Array, liveCount, 4);
  const ts = take(Float64Array, liveCount, 8);
  const fps = take(Uint32Array, liveCount * words, 4);
  const nums = take(Float64Array, liveCount * numbers, 8);
  const codes = take(Uint8Array, liveCount * bytes, 1);
  const wholeResults = new Map<number, unknown>();
  for (const [index, result] of tuples(whole, 'whole results')) {
    need(isInt(index) && isStr(result) && !wholeResults.has(index as number), 'whole result');
    wholeResults.set(index as number, JSON.parse(result as string) as unknown);
  }
  for (let i = 0; i < liveCount; i += 1) {
    const code = codes[i];
    const index = nums[i * numbers];
    need(
      isInt(ts[i]) && ts[i] <= sm.logTime && (i === 0 || ts[i] >= ts[i - 1]),
      'session time (out of apply order)',
    );
    need(isInt(index) && code <= RESULT_CODES_MAX, 'session entry');
    if (code !== WHOLE_RESULT) continue;
    need(wholeResults.has(index), 'session without its result');
    sm.sessions.wholeResults.set(index, wholeResults.get(index));
  }
  need(sm.sessions.wholeResults.size === wholeResults.size, 'whole result without a session');
  const pastHi = take(Uint32Array, pastCount, 4);
  const pastLo = take(Uint32Array, pastCount, 4);
  const pastTs = take(Float64Array, pastCount, 8);
  for (let i = 0; i < pastCount; i += 1)
    need(isInt(pastTs[i]) && (i === 0 || pastTs[i] >= pastTs[i - 1]), 'horizon time');
  const none = {
    words: new Uint32Array(0),
    numbers: new Float64Array(0),
    bytes: new Uint8Array(0),
  };
  need(
    sm.sessions.live.load(liveCount, {
      hashHi,
      hashLo,
      ts,
      words: fps,
      numbers: nums,
      bytes: codes,
    }),
    'session entry (a requestId twice)',
  );
  need(
    sm.sessions.past.load(pastCount, { hashHi: pastHi, hashLo: pastLo, ts: pastTs, ...none }),
    'horizon entry (an id twice)',
  );
}
