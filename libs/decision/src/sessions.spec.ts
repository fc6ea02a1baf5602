import { Command } from './commands';
import { decodeSnapshot, encodeSnapshot } from './codec';
import { IdRing } from './id-ring';
import { FrozenSessionColumns, entryBytes } from './session-columns';
import { WHOLE_RESULT } from './session-results';
import { SessionLimits } from './sessions';
import { DecisionStateMachine } from './state-machine';

const machine = (limits: Partial<SessionLimits> = {}) =>
  new DecisionStateMachine({
    sessions: { windowMs: 1_000, idsMax: 100, horizonIdsMax: 100, ...limits },
  });
const spend = (requestId: string, ts: number, bidId = requestId): Command => ({
  type: 'budget.spend',
  requestId,
  ts,
  campaign: 'c',
  bidId,
  amount: 1,
});
const funded = (limits: Partial<SessionLimits> = {}) => {
  const sm = machine(limits);
  sm.apply(1, { type: 'budget.set', requestId: 'fund', ts: 0, campaign: 'c', limit: 1_000 });
  return sm;
};
const spent = (sm: DecisionStateMachine) => sm.budgets.get('c')!.spent;

describe('client sessions: an id is never applied twice', () => {
  it('refuses new commands at the count bound instead of forgetting an id inside the window', () => {
    const sm = funded({ idsMax: 3, windowMs: 1_000 });
    sm.apply(2, spend('a', 10));
    sm.apply(3, spend('b', 11));
    // Three ids (fund, a, b) fill the table: the next new id is refused, with when to retry.
    expect(sm.apply(4, spend('c', 12))).toEqual({
      result: { status: 'refused', reason: 'idempotency-ids-full', retryAfterMs: 988 },
      replayed: false,
    });
    // Before, "a" was evicted here and its retry spent again; now it is still a replay.
    expect(sm.apply(5, spend('a', 13)).replayed).toBe(true);
    expect(spent(sm)).toBe(2);
    // Once the oldest id leaves the window, a new one is taken again.
    expect(sm.apply(6, spend('c', 1_000)).result).toMatchObject({ status: 'accepted' });
    expect(spent(sm)).toBe(3);
  });

  it('refuses a retry whose id is older than the window, naming the window', () => {
    const sm = funded();
    sm.apply(2, spend('late', 10));
    expect(sm.apply(3, spend('late', 5_000))).toEqual({
      result: {
        status: 'refused',
        reason: 'idempotency-window-passed',
        requestId: 'late',
        windowMs: 1_000,
      },
      replayed: false,
    });
    expect(spent(sm)).toBe(1);
  });

  it('replays up to the last millisecond of the window and refuses from its end on', () => {
    const sm = funded();
    sm.apply(2, spend('edge', 100));
    expect(sm.apply(3, spend('edge', 1_099)).replayed).toBe(true);
    expect(sm.apply(4, spend('edge', 1_100)).result).toMatchObject({
      reason: 'idempotency-window-passed',
    });
    expect(spent(sm)).toBe(1);
  });

  it('refuses a UUIDv7 id whose own time is a window behind the log, remembered or not', () => {
    const sm = funded({ horizonIdsMax: 0 });
    // 0x000000002710 = 10,000 ms since the epoch.
    const id = '00000000-2710-7abc-8def-0123456789ab';
    expect(sm.apply(2, spend(id, 10_500)).result).toMatchObject({ status: 'accepted' });
    expect(sm.apply(3, spend(id, 11_000)).replayed).toBe(true);
    expect(sm.apply(4, spend(id, 11_500)).result).toMatchObject({
      reason: 'idempotency-window-passed',
    });
    // Even at first sight: an id that old cannot be told from a retry of a forgotten one.
    const stale = '00000000-0001-7abc-8def-0123456789ab';
    expect(sm.apply(5, spend(stale, 11_500)).result).toMatchObject({
      reason: 'idempotency-window-passed',
    });
    // A v4 UUID carries no time: with no horizon it is simply new.
    expect(sm.apply(6, spend('00000000-2710-4abc-8def-0123456789ab', 11_500)).replayed).toBe(false);
    expect(spent(sm)).toBe(2);
  });

  it('ends the guarantee for ids without a time where the horizon drops them', () => {
    const sm = funded({ horizonIdsMax: 2 });
    for (const [i, id] of ['x1', 'x2', 'x3'].entries()) sm.apply(2 + i, spend(id, 10 + i));
    sm.apply(5, { type: 'clock', ts: 5_000 });
    // x1 fell off a horizon of two: its retry is new to the table (documented limit).
    expect(sm.apply(6, spend('x1', 5_001)).result).toMatchObject({ status: 'rejected' });
    expect(sm.apply(7, spend('x2', 5_002)).result).toMatchObject({
      reason: 'idempotency-window-passed',
    });
  });

  it('keeps live ids, ids past the window and whole results across a snapshot', () => {
    const limits = { windowMs: 1_000, idsMax: 100, horizonIdsMax: 100 };
    const sm = funded(limits);
    sm.apply(2, spend('old', 10));
    sm.apply(3, { type: 'clock', ts: 2_000 });
    sm.apply(4, spend('live', 2_000));
    sm.apply(5, {
      type: 'proposal.create',
      requestId: 'create',
      ts: 2_000,
      proposalId: 'p',
      options: ['x', 'y'],
      policy: { kind: 'majority', voters: ['a'], deadlineMs: 100, onDeadline: 'reject' },
    });
    const vote = (requestId: string, agentId: string, option: string): Command => ({
      type: 'proposal.vote',
      requestId,
      ts: 2_000,
      proposalId: 'p',
      agentId,
      option,
    });
    sm.apply(6, vote('decides', 'a', 'x'));
    // Not open, outcome "x", an option this vote does not name: kept whole.
    sm.apply(7, vote('whole', 'b', 'y'));
    expect(sm.sessions.wholeResults.size).toBe(1);
    const decoded = decodeSnapshot(encodeSnapshot(sm), { sessions: limits });
    if (!decoded.ok) throw new Error(decoded.error);
    const copy = decoded.sm;
    for (const m of [sm, copy]) {
      expect(m.apply(8, spend('old', 2_001)).result).toMatchObject({
        reason: 'idempotency-window-passed',
      });
      expect(m.apply(9, spend('live', 2_001))).toEqual({
        result: { status: 'accepted', campaign: 'c', remaining: 998, index: 4 },
        replayed: true,
      });
      expect(m.apply(10, vote('whole', 'b', 'y'))).toEqual({
        result: { counted: false, status: 'decided', outcome: 'x', reason: 'not-open', index: 7 },
        replayed: true,
      });
      expect(m.apply(11, spend('live', 2_001, 'other')).result).toMatchObject({
        reason: 'idempotency-key-reuse',
      });
    }
    expect(Buffer.from(encodeSnapshot(copy)).equals(Buffer.from(encodeSnapshot(sm)))).toBe(true);
    expect(copy.sessions.live.size).toBe(sm.sessions.live.size);
    expect(copy.sessions.past.size).toBe(2);
  });
});

describe('client sessions: compact results', () => {
  const script: Command[] = [
    { type: 'kv.put', requestId: 'k1', ts: 1, key: 'k', value: 'v"😀' },
    { type: 'kv.put', requestId: 'k2', ts: 1, key: 'k', value: 'w', ifVersion: 9 },
    { type: 'kv.delete', requestId: 'k3', ts: 1, key: 'k', ifVersion: 9 },
    { type: 'kv.delete', requestId: 'k4', ts: 1, key: 'k' },
    { type: 'kv.delete', requestId: 'k5', ts: 1, key: 'k' },
    { type: 'inventory.reserve', requestId: 'i0', ts: 1, sku: 's', orderId: 'o', quantity: 1 },
    { type: 'inventory.restock', requestId: 'i1', ts: 1, sku: 's', quantity: 2 },
    { type: 'inventory.reserve', requestId: 'i2', ts: 1, sku: 's', orderId: 'o', quantity: 1 },
    { type: 'inventory.reserve', requestId: 'i3', ts: 1, sku: 's', orderId: 'o', quantity: 1 },
    { type: 'inventory.reserve', requestId: 'i4', ts: 1, sku: 's', orderId: 'p', quantity: 5 },
    { type: 'inventory.release', requestId: 'i5', ts: 1, sku: 's', orderId: 'o' },
    { type: 'inventory.release', requestId: 'i6', ts: 1, sku: 's', orderId: 'o' },
    { type: 'budget.spend', requestId: 'b0', ts: 1, campaign: 'c', bidId: 'x', amount: 1 },
    { type: 'budget.set', requestId: 'b1', ts: 1, campaign: 'c', limit: 10 },
    { type: 'budget.spend', requestId: 'b2', ts: 1, campaign: 'c', bidId: 'x', amount: 4 },
    { type: 'budget.spend', requestId: 'b3', ts: 1, campaign: 'c', bidId: 'x', amount: 1 },
    { type: 'budget.spend', requestId: 'b4', ts: 1, campaign: 'c', bidId: 'y', amount: 99 },
    {
      type: 'proposal.create',
      requestId: 'p1',
      ts: 1,
      proposalId: 'p',
      options: ['x', 'y'],
      policy: { kind: 'majority', voters: ['a', 'b'], deadlineMs: 100, onDeadline: 'reject' },
    },
    {
      type: 'proposal.create',
      requestId: 'p2',
      ts: 1,
      proposalId: 'p',
      options: ['x', 'y'],
      policy: { kind: 'majority', voters: ['a'], deadlineMs: 100, onDeadline: 'reject' },
    },
    ...(
      [
        ['v1', 'a', 'x'],
        ['v2', 'a', 'y'],
        ['v3', 'z', 'x'],
        ['v4', 'b', 'q'],
        ['v5', 'b', 'x'],
        ['v6', 'b', 'y'],
      ] as const
    ).map(([requestId, agentId, option]): Command => ({
      type: 'proposal.vote',
      requestId,
      ts: 1,
      proposalId: 'p',
      agentId,
      option,
    })),
  ];

  it('replays every kind of result exactly as first answered, mostly without keeping it', () => {
    const sm = new DecisionStateMachine();
    const firsts = script.map((c, i) => sm.apply(i + 1, c));
    const replays = script.map((c, i) => sm.apply(100 + i, c));
    replays.forEach((replay, i) => {
      expect(replay.replayed).toBe(true);
      expect(JSON.stringify(replay.result)).toBe(JSON.stringify(firsts[i].result));
    });
    // Only the vote on a decided proposal whose outcome is another option is kept whole.
    expect([...sm.sessions.wholeResults.keys()]).toEqual([script.length]);
    const { live } = sm.sessions;
    const codes = Array.from({ length: live.size }, (_, i) => live.bytes[live.at(i)]);
    expect(codes.filter((code) => code === WHOLE_RESULT)).toHaveLength(1);
  });
});

describe('IdRing', () => {
  it('finds every id still held while the oldest leave and the ring grows', () => {
    const ring = new IdRing({ words: 0, numbers: 0, bytes: 0 });
    const held: number[] = [];
    // Hashes crowded into few index slots, to exercise probing and backward shifts.
    const hash = (n: number): [number, number] => [n % 7, (n * 2_654_435_761) >>> 0];
    for (let n = 0; n < 5_000; n += 1) {
      ring.push(...hash(n), n);
      held.push(n);
      if (n % 3 === 0) {
        ring.shift();
        held.shift();
      }
    }
    expect(ring.size).toBe(held.length);
    for (const n of held) expect(ring.ts[ring.find(...hash(n))]).toBe(n);
    expect(ring.find(...hash(held[0] - 1))).toBe(-1);
    expect(ring.oldestTs()).toBe(held[0]);
  });

  it('stops doubling at its bound, so a full table wastes no room', () => {
    const ring = new IdRing({ words: 0, numbers: 0, bytes: 0 }, 3_000);
    for (let n = 0; n < 3_000; n += 1) ring.push(n, n, n);
    expect(ring.capacity).toBe(3_000);
    expect(ring.find(2_999, 2_999)).toBeGreaterThanOrEqual(0);
  });
});

describe('FrozenSessionColumns', () => {
  const layout = { words: 1, numbers: 1, bytes: 1 };
  /** A full ring of 1,024 entries whose every column says which entry it is. */
  function filled(capacityMax: number): IdRing {
    const ring = new IdRing(layout, capacityMax);
    for (let n = 0; n < 1_024; n += 1) {
      const p = ring.push(n, n + 1, n + 2);
      ring.words[p] = n + 3;
      ring.numbers[p] = n + 4;
      ring.bytes[p] = n % 256;
    }
    return ring;
  }
  function written(ring: IdRing, change: (ring: IdRing) => void): Uint8Array {
    const out = new Uint8Array(ring.size * entryBytes(ring));
    const columns = new FrozenSessionColumns([ring], out, 0);
    columns.step(100);
    change(ring);
    while (!columns.step(100));
    return out;
  }
  const untouched = written(filled(1_024), () => undefined);

  it('writes the entries as they were, when pushes reuse positions not yet written', () => {
    const out = written(filled(1_024), (ring) => {
      for (let n = 0; n < 200; n += 1) ring.shift();
      for (let n = 0; n < 200; n += 1) ring.push(9_000 + n, 9_000 + n, 9_000 + n);
    });
    expect(Buffer.from(out).equals(Buffer.from(untouched))).toBe(true);
  });

  it('writes the entries as they were, when the ring grows into new arrays meanwhile', () => {
    const out = written(filled(1_000_000), (ring) => {
      ring.push(9_000, 9_000, 9_000);
      ring.hashHi.fill(7);
    });
    expect(Buffer.from(out).equals(Buffer.from(untouched))).toBe(true);
  });
});
