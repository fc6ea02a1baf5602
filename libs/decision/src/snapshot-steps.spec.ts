import { Command } from './commands';
import { decodeSnapshot, encodeSnapshot, snapshotSteps } from './codec';
import { crc32 } from './fnv';
import { DecisionStateMachine } from './state-machine';

/**
 * The oracle: the JSON part of the snapshot is the whole state (but the session columns)
 * serialized at once, as snapshots were written before they came in steps; the session
 * columns follow it, 49 bytes per live id and 16 per id past the window.
 */
function expectWholeState(bytes: Uint8Array, sm: DecisionStateMachine): void {
  const byKey = <V>(map: Map<string, V>): [string, V][] =>
    [...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const json = JSON.stringify({
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
      whole: [...sm.sessions.wholeResults].map(([i, r]) => [i, JSON.stringify(r)]),
    },
  });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  expect(new TextDecoder().decode(bytes.subarray(0, 7))).toBe('PRLYDSM');
  expect(bytes[7]).toBe(2);
  expect(view.getUint32(8)).toBe(crc32(bytes.subarray(12)));
  const jsonLength = view.getUint32(12, true);
  expect(new TextDecoder().decode(bytes.subarray(16, 16 + jsonLength))).toBe(json);
  expect(bytes.length - 16 - jsonLength).toBe(
    sm.sessions.live.size * 49 + sm.sessions.past.size * 16,
  );
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

/** Commands touching every part of the state; ids and values with quotes and astral characters. */
function commands(from: number, count: number): Command[] {
  const out: Command[] = [];
  for (let n = from; n < from + count; n += 1) {
    const ts = 1_000 + n;
    const requestId = `req-${n}-"q"-😀`;
    switch (n % 6) {
      case 0:
        out.push({ type: 'inventory.restock', requestId, ts, sku: `sku-${n % 7}`, quantity: 5 });
        break;
      case 1:
        out.push({
          type: 'inventory.reserve',
          requestId,
          ts,
          sku: `sku-${n % 7}`,
          orderId: `o-${n}`,
          quantity: 1,
        });
        break;
      case 2:
        out.push({ type: 'budget.set', requestId, ts, campaign: `c-${n % 5}`, limit: 1_000 });
        break;
      case 3:
        out.push({
          type: 'budget.spend',
          requestId,
          ts,
          campaign: `c-${n % 5}`,
          bidId: `b-${n}`,
          amount: 3,
        });
        break;
      case 4:
        out.push({ type: 'kv.delete', requestId, ts, key: `k-${n % 50}` });
        break;
      default:
        out.push({
          type: 'kv.put',
          requestId,
          ts,
          key: `k-${n % 50}`,
          value: `v-${n}-\u{1F600}"\\`,
        });
    }
  }
  return out;
}

function fed(count: number, windowMs = 24 * 3600 * 1000): DecisionStateMachine {
  const sm = new DecisionStateMachine({
    sessions: { windowMs, idsMax: 100_000, horizonIdsMax: 1_000 },
  });
  commands(0, count).forEach((c, i) => sm.apply(i + 1, c));
  sm.apply(count + 1, {
    type: 'proposal.create',
    requestId: 'p-create',
    ts: 999_999,
    proposalId: 'p',
    options: ['x', 'y'],
    policy: {
      kind: 'majority',
      voters: ['1', '2', '3'],
      deadlineMs: 10_000_000,
      onDeadline: 'plurality',
    },
  });
  sm.apply(count + 2, {
    type: 'proposal.vote',
    requestId: 'p-vote',
    ts: 999_999,
    proposalId: 'p',
    agentId: '1',
    option: 'x',
  });
  return sm;
}

describe('snapshots in steps', () => {
  it.each([0, 1, 1_998, 1_999, 2_000, 4_500])(
    'give the bytes of the whole state serialized at once (%i commands)',
    (count) => {
      const sm = fed(count, 2_000);
      const bytes = encodeSnapshot(sm);
      expectWholeState(bytes, sm);
      const restored = decodeSnapshot(bytes);
      if (!restored.ok) throw new Error(restored.error);
      expect(same(encodeSnapshot(restored.sm), bytes)).toBe(true);
    },
  );

  it('take the state as it is at the first step, whatever is applied between the steps', () => {
    const before = fed(5_000, 3_000);
    const moving = fed(5_000, 3_000);
    const steps = snapshotSteps(moving);
    let step = steps.next();
    // Between every two steps more commands apply: overwrites, deletes, reservations,
    // spends, a vote that decides the proposal, and evictions of captured sessions.
    let index = 6_000;
    let stepsTaken = 1;
    while (!step.done) {
      for (const c of commands(index, 700)) moving.apply(index++, c);
      moving.apply(index++, {
        type: 'proposal.vote',
        requestId: `vote-${index}`,
        ts: 2_000_000,
        proposalId: 'p',
        agentId: stepsTaken % 2 === 0 ? '2' : '3',
        option: 'x',
      });
      step = steps.next();
      stepsTaken += 1;
    }
    expect(same(step.value, encodeSnapshot(before))).toBe(true);
    expect(same(encodeSnapshot(moving), encodeSnapshot(before))).toBe(false);
    // The first step, then session entries and checksums in several more.
    expect(stepsTaken).toBeGreaterThanOrEqual(3);
  });
});
