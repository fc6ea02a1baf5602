import { Command } from './commands';
import { encodeSnapshot, snapshotSteps } from './codec';
import { crc32 } from './fnv';
import { DecisionStateMachine } from './state-machine';

/**
 * The oracle: the whole state serialized in one piece, as snapshots were written before they
 * came in steps. Stepwise snapshots must give exactly these bytes (replicas compare them, and
 * older replicas read them).
 */
function wholeStateBytes(sm: DecisionStateMachine): Uint8Array {
  const byKey = <V>(map: Map<string, V>): [string, V][] =>
    [...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const json = new TextEncoder().encode(
    JSON.stringify({
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
      budgets: byKey(sm.budgets.campaigns).map(([k, b]) => [
        k,
        b.limit,
        b.spent,
        [...b.bids].sort(),
      ]),
      proposals: byKey(sm.proposals.proposals).map(([k, p]) => [
        k,
        p.options,
        p.policy,
        p.deadline,
        p.status,
        p.outcome,
        [...p.votes],
      ]),
      sessions: [...sm.sessions.entries].map(([k, s]) => [
        k,
        s.fingerprint,
        JSON.stringify(s.result),
        s.index,
        s.ts,
      ]),
    }),
  );
  const out = new Uint8Array(12 + json.length);
  out.set(new TextEncoder().encode('PRLYDSM'), 0);
  out[7] = 1;
  new DataView(out.buffer).setUint32(8, crc32(json));
  out.set(json, 12);
  return out;
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

function fed(count: number, maxSessions = 100_000): DecisionStateMachine {
  const sm = new DecisionStateMachine({ maxSessions, sessionTtlMs: 24 * 3600 * 1000 });
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
      const sm = fed(count);
      expect(same(encodeSnapshot(sm), wholeStateBytes(sm))).toBe(true);
    },
  );

  it('take the state as it is at the first step, whatever is applied between the steps', () => {
    const before = fed(5_000, 4_000);
    const moving = fed(5_000, 4_000);
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
    // 4,000 sessions at 2,000 a step, plus the first and the last step.
    expect(stepsTaken).toBeGreaterThanOrEqual(4);
  });
});
