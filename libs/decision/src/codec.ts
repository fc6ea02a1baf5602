import { Command, validateCommand } from './commands';
import { CRC32_START, crc32, crc32Finish, crc32Update } from './fnv';
import { Proposal } from './proposals';
import { DecisionStateMachine, StateMachineOptions } from './state-machine';

/**
 * Encodings of the decision state machine: commands as log entries (a format byte, then JSON)
 * and whole-state snapshots ("PRLYDSM" + version byte + CRC-32 + canonical JSON). Decoders
 * validate everything and answer errors as values; JSON.parse only ever builds plain data,
 * and all state is rebuilt into Maps, so no input can reach a prototype.
 */
const COMMAND_FORMAT = 1;
const COMMAND_BYTES_MAX = 1024 * 1024;
const MAGIC = [0x50, 0x52, 0x4c, 0x59, 0x44, 0x53, 0x4d]; // "PRLYDSM"
const SNAPSHOT_VERSION = 1;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeCommand(command: Command): Uint8Array {
  const json = encoder.encode(JSON.stringify(command));
  const out = new Uint8Array(json.length + 1);
  out[0] = COMMAND_FORMAT;
  out.set(json, 1);
  return out;
}

export function decodeCommand(
  bytes: Uint8Array,
): { ok: true; command: Command } | { ok: false; error: string } {
  if (bytes.length === 0 || bytes.length > COMMAND_BYTES_MAX)
    return { ok: false, error: `command of ${bytes.length} bytes` };
  if (bytes[0] !== COMMAND_FORMAT)
    return { ok: false, error: `unknown command format ${bytes[0]}` };
  let raw: unknown;
  try {
    raw = JSON.parse(decoder.decode(bytes.subarray(1)));
  } catch {
    return { ok: false, error: 'command is not UTF-8 JSON' };
  }
  const validated = validateCommand(raw);
  return validated.ok
    ? { ok: true, command: validated.value }
    : { ok: false, error: validated.errors.join('; ') };
}

const byKey = <V>(map: Map<string, V>): [string, V][] =>
  [...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

/** Sessions serialized per step of a stepwise snapshot (1-10 ms of work on a busy 2-vCPU VM). */
const SESSIONS_PER_STEP = 500;

export function encodeSnapshot(sm: DecisionStateMachine): Uint8Array {
  const steps = snapshotSteps(sm);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * The snapshot of `sm` as it is when the first step runs, produced in bounded steps so a
 * replica can keep its event loop (heartbeats, replication) going between them: 100,000
 * sessions took ~320 ms in one piece, long enough for an election. The first step copies the
 * state into fresh arrays (sessions and the values kept are never changed in place once
 * recorded, so references suffice); each later step serializes a slice of it. The bytes are
 * exactly those of serializing the whole state at once.
 */
export function* snapshotSteps(sm: DecisionStateMachine): Generator<void, Uint8Array, void> {
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
  };
  // Sessions keep apply order: eviction depends on it.
  const sessions = [...sm.sessions.entries];
  yield;
  // JSON of an object is its members joined in key order: "sessions", the last member, is
  // written piece by piece after the others. Each piece is complete JSON text (no split
  // surrogate pair), so encoding the pieces one by one gives the bytes of the whole.
  const pieces: Uint8Array[] = [];
  let crc = CRC32_START;
  const add = (text: string) => {
    const bytes = encoder.encode(text);
    pieces.push(bytes);
    crc = crc32Update(crc, bytes);
  };
  add(`${JSON.stringify(state).slice(0, -1)},"sessions":[`);
  for (let from = 0; from < sessions.length; from += SESSIONS_PER_STEP) {
    yield;
    const tuples = sessions
      .slice(from, from + SESSIONS_PER_STEP)
      .map(([k, s]) => [k, s.fingerprint, JSON.stringify(s.result), s.index, s.ts]);
    add(`${from === 0 ? '' : ','}${JSON.stringify(tuples).slice(1, -1)}`);
  }
  add(']}');
  yield;
  const length = pieces.reduce((sum, piece) => sum + piece.length, 0);
  const out = new Uint8Array(MAGIC.length + 1 + 4 + length);
  out.set(MAGIC, 0);
  out[MAGIC.length] = SNAPSHOT_VERSION;
  new DataView(out.buffer).setUint32(MAGIC.length + 1, crc32Finish(crc));
  let at = MAGIC.length + 5;
  for (const piece of pieces) {
    out.set(piece, at);
    at += piece.length;
  }
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
    need(
      bytes[MAGIC.length] === SNAPSHOT_VERSION,
      `unsupported snapshot version ${bytes[MAGIC.length]}`,
    );
    const json = bytes.subarray(MAGIC.length + 5);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    need(view.getUint32(MAGIC.length + 1) === crc32(json), 'snapshot checksum mismatch');
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
    for (const [k, print, result, index, ts] of tuples(s.sessions, 'sessions')) {
      need(isStr(k) && isStr(print) && isStr(result) && isInt(index) && isInt(ts), 'session entry');
      need(!sm.sessions.lookup(k as string), 'session entry (a requestId twice)');
      sm.sessions.restore(k as string, {
        fingerprint: print as string,
        result: JSON.parse(result as string) as unknown,
        index: index as number,
        ts: ts as number,
      });
    }
    return { ok: true, sm };
  } catch (error) {
    if (error instanceof SnapshotError) return { ok: false, error: error.message };
    if (error instanceof SyntaxError) return { ok: false, error: 'snapshot holds malformed JSON' };
    throw error;
  }
}
