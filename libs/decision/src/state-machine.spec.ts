import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, Policy, validateCommand } from './commands';
import { decodeCommand, decodeSnapshot, encodeCommand, encodeSnapshot } from './codec';
import { canonical } from './canonical';
import { fingerprintLanes } from './fnv';
import { DecisionStateMachine } from './state-machine';

let counter = 0;
const rid = () => `r${++counter}`;
const at = (sm: DecisionStateMachine, command: Command, index = ++counter) =>
  sm.apply(index, command).result as Record<string, unknown>;

describe('kv with versions and compare-and-set', () => {
  it('starts a key at version 1 and increments per write', () => {
    const sm = new DecisionStateMachine();
    expect(at(sm, { type: 'kv.put', requestId: rid(), ts: 1, key: 'a', value: 'x' }, 10)).toEqual({
      status: 'ok',
      key: 'a',
      value: 'x',
      version: 1,
      index: 10,
    });
    expect(at(sm, { type: 'kv.put', requestId: rid(), ts: 2, key: 'a', value: 'y' })).toMatchObject(
      { version: 2 },
    );
  });

  it('refuses a write whose ifVersion does not match, naming the current version', () => {
    const sm = new DecisionStateMachine();
    at(sm, { type: 'kv.put', requestId: rid(), ts: 1, key: 'a', value: 'x' });
    expect(
      at(sm, { type: 'kv.put', requestId: rid(), ts: 2, key: 'a', value: 'y', ifVersion: 7 }),
    ).toEqual({ status: 'conflict', key: 'a', currentVersion: 1 });
    expect(
      at(sm, { type: 'kv.put', requestId: rid(), ts: 2, key: 'new', value: 'y', ifVersion: 0 }),
    ).toMatchObject({ status: 'ok', version: 1 });
  });

  it('continues versions after a delete, so an old ifVersion never matches a new incarnation', () => {
    const sm = new DecisionStateMachine();
    at(sm, { type: 'kv.put', requestId: rid(), ts: 1, key: 'a', value: 'x' });
    expect(
      at(sm, { type: 'kv.delete', requestId: rid(), ts: 2, key: 'a', ifVersion: 1 }),
    ).toMatchObject({ status: 'ok', version: 1 });
    expect(at(sm, { type: 'kv.delete', requestId: rid(), ts: 3, key: 'a' })).toEqual({
      status: 'not-found',
      key: 'a',
    });
    expect(
      at(sm, { type: 'kv.put', requestId: rid(), ts: 4, key: 'a', value: 'again' }),
    ).toMatchObject({ version: 2 });
    expect(sm.query({ type: 'kv.get', key: 'a' })).toMatchObject({
      found: true,
      value: { value: 'again', version: 2 },
    });
  });
});

describe('inventory', () => {
  it('reserves while stock lasts and rejects beyond it, as a decision', () => {
    const sm = new DecisionStateMachine();
    at(sm, { type: 'inventory.restock', requestId: rid(), ts: 1, sku: 'sku', quantity: 3 });
    expect(
      at(sm, {
        type: 'inventory.reserve',
        requestId: rid(),
        ts: 2,
        sku: 'sku',
        orderId: 'o1',
        quantity: 2,
      }),
    ).toMatchObject({ status: 'accepted', available: 1, reserved: 2 });
    expect(
      at(sm, {
        type: 'inventory.reserve',
        requestId: rid(),
        ts: 3,
        sku: 'sku',
        orderId: 'o2',
        quantity: 2,
      }),
    ).toMatchObject({ status: 'rejected', reason: 'out-of-stock', available: 1 });
    expect(
      at(sm, {
        type: 'inventory.reserve',
        requestId: rid(),
        ts: 3,
        sku: 'sku',
        orderId: 'o1',
        quantity: 1,
      }),
    ).toMatchObject({ status: 'rejected', reason: 'order-exists' });
    expect(
      at(sm, { type: 'inventory.release', requestId: rid(), ts: 4, sku: 'sku', orderId: 'o1' }),
    ).toMatchObject({ status: 'released', available: 3, reserved: 0 });
    expect(
      at(sm, { type: 'inventory.release', requestId: rid(), ts: 5, sku: 'sku', orderId: 'o1' }),
    ).toEqual({ status: 'not-found', sku: 'sku' });
  });

  it('never oversells under any sequence of restocks, reservations and releases', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('restock'), quantity: fc.integer({ min: 1, max: 5 }) }),
      fc.record({
        kind: fc.constant('reserve'),
        order: fc.integer({ min: 0, max: 6 }),
        quantity: fc.integer({ min: 1, max: 4 }),
      }),
      fc.record({ kind: fc.constant('release'), order: fc.integer({ min: 0, max: 6 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const sm = new DecisionStateMachine();
        let stocked = 0;
        ops.forEach((o, i) => {
          const base = { requestId: `q${i}`, ts: i, sku: 's' };
          if (o.kind === 'restock') {
            stocked += o.quantity;
            sm.apply(i + 1, { type: 'inventory.restock', ...base, quantity: o.quantity });
          } else if (o.kind === 'reserve')
            sm.apply(i + 1, {
              type: 'inventory.reserve',
              ...base,
              orderId: `o${o.order}`,
              quantity: o.quantity,
            });
          else sm.apply(i + 1, { type: 'inventory.release', ...base, orderId: `o${o.order}` });
          const view = sm.inventory.get('s');
          if (view) {
            expect(view.available).toBeGreaterThanOrEqual(0);
            expect(view.available + view.reserved).toBe(stocked);
          }
        });
      }),
      { numRuns: 500 },
    );
  });
});

describe('budgets', () => {
  it('never spends more than the limit, and spends a bid once', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 100 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 1, max: 40 })), {
          maxLength: 40,
        }),
        (limit, spends) => {
          const sm = new DecisionStateMachine();
          sm.apply(1, { type: 'budget.set', requestId: 'set', ts: 0, campaign: 'c', limit });
          const accepted = new Set<string>();
          spends.forEach(([bid, amount], i) => {
            const r = sm.apply(i + 2, {
              type: 'budget.spend',
              requestId: `s${i}`,
              ts: i,
              campaign: 'c',
              bidId: `b${bid}`,
              amount,
            }).result as { status: string };
            if (r.status === 'accepted') {
              expect(accepted.has(`b${bid}`)).toBe(false);
              accepted.add(`b${bid}`);
            }
            expect(sm.budgets.get('c')!.spent).toBeLessThanOrEqual(limit);
          });
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('client sessions (exactly-once effects)', () => {
  it('applies a requestId once and replays the first result to a retry', () => {
    const sm = new DecisionStateMachine();
    at(sm, { type: 'inventory.restock', requestId: 'stock', ts: 1, sku: 's', quantity: 1 });
    const first = sm.apply(2, {
      type: 'inventory.reserve',
      requestId: 'req-1',
      ts: 2,
      sku: 's',
      orderId: 'o',
      quantity: 1,
    });
    const retry = sm.apply(3, {
      type: 'inventory.reserve',
      requestId: 'req-1',
      ts: 9,
      sku: 's',
      orderId: 'o',
      quantity: 1,
    });
    expect(first.replayed).toBe(false);
    expect(retry).toEqual({ result: first.result, replayed: true });
    expect(sm.inventory.get('s')).toEqual({ sku: 's', available: 0, reserved: 1 });
  });

  it('refuses a requestId reused for a different command, applying nothing', () => {
    const sm = new DecisionStateMachine();
    at(sm, { type: 'kv.put', requestId: 'same', ts: 1, key: 'a', value: 'x' });
    expect(
      at(sm, { type: 'kv.put', requestId: 'same', ts: 2, key: 'a', value: 'DIFFERENT' }),
    ).toEqual({ status: 'refused', reason: 'idempotency-key-reuse', requestId: 'same' });
    expect(sm.kv.get('a')?.value).toBe('x');
  });
});

describe('proposals and votes', () => {
  const create = (sm: DecisionStateMachine, id: string, policy: Policy, ts = 0) =>
    at(sm, {
      type: 'proposal.create',
      requestId: rid(),
      ts,
      proposalId: id,
      options: ['yes', 'no'],
      policy,
    });
  const vote = (
    sm: DecisionStateMachine,
    id: string,
    agentId: string,
    option: string,
    ts = 1,
    weight?: number,
  ) =>
    at(sm, {
      type: 'proposal.vote',
      requestId: rid(),
      ts,
      proposalId: id,
      agentId,
      option,
      weight,
    });

  it('majority: decides once an option holds more than half of the voters', () => {
    const sm = new DecisionStateMachine();
    expect(
      create(sm, 'p', {
        kind: 'majority',
        voters: ['a', 'b', 'c'],
        deadlineMs: 1000,
        onDeadline: 'reject',
      }),
    ).toMatchObject({ status: 'open' });
    expect(vote(sm, 'p', 'a', 'yes')).toMatchObject({ counted: true, status: 'open' });
    expect(vote(sm, 'p', 'b', 'yes')).toMatchObject({
      counted: true,
      status: 'decided',
      outcome: 'yes',
    });
    expect(vote(sm, 'p', 'c', 'no')).toMatchObject({
      counted: false,
      reason: 'not-open',
      outcome: 'yes',
    });
  });

  it('refuses votes from non-voters, for unknown options and second votes', () => {
    const sm = new DecisionStateMachine();
    create(sm, 'p', {
      kind: 'majority',
      voters: ['a', 'b', 'c'],
      deadlineMs: 1000,
      onDeadline: 'reject',
    });
    expect(vote(sm, 'p', 'z', 'yes')).toMatchObject({ counted: false, reason: 'not-a-voter' });
    expect(vote(sm, 'p', 'a', 'maybe')).toMatchObject({ counted: false, reason: 'unknown-option' });
    vote(sm, 'p', 'a', 'yes');
    expect(vote(sm, 'p', 'a', 'no')).toMatchObject({ counted: false, reason: 'already-voted' });
    expect(sm.query({ type: 'proposal.get', proposalId: 'p' })).toMatchObject({
      found: true,
      value: { status: 'open', tally: { yes: 1, no: 0 } },
    });
  });

  it('threshold: decides at the given percentage of the quorum', () => {
    const sm = new DecisionStateMachine();
    create(sm, 'p', {
      kind: 'threshold',
      quorum: 4,
      threshold: 75,
      deadlineMs: 1000,
      onDeadline: 'reject',
    });
    vote(sm, 'p', 'a', 'no');
    vote(sm, 'p', 'b', 'no');
    expect(vote(sm, 'p', 'c', 'no')).toMatchObject({ status: 'decided', outcome: 'no' });
  });

  it('unanimous: all voters must agree; one dissent decides with no outcome', () => {
    const sm = new DecisionStateMachine();
    create(sm, 'u', {
      kind: 'unanimous',
      voters: ['a', 'b'],
      deadlineMs: 1000,
      onDeadline: 'reject',
    });
    vote(sm, 'u', 'a', 'yes');
    expect(vote(sm, 'u', 'b', 'yes')).toMatchObject({ status: 'decided', outcome: 'yes' });
    create(sm, 'v', {
      kind: 'unanimous',
      voters: ['a', 'b', 'c'],
      deadlineMs: 1000,
      onDeadline: 'reject',
    });
    vote(sm, 'v', 'a', 'yes');
    expect(vote(sm, 'v', 'b', 'no')).toMatchObject({ status: 'decided', outcome: null });
  });

  it('weighted: the first option whose total weight reaches the threshold wins', () => {
    const sm = new DecisionStateMachine();
    create(sm, 'w', { kind: 'weighted', threshold: 10, deadlineMs: 1000, onDeadline: 'reject' });
    expect(vote(sm, 'w', 'a', 'no', 1, 6)).toMatchObject({ status: 'open' });
    expect(vote(sm, 'w', 'b', 'yes', 1, 9)).toMatchObject({ status: 'open' });
    expect(vote(sm, 'w', 'c', 'no', 1, 4)).toMatchObject({ status: 'decided', outcome: 'no' });
  });

  it('weighted with policy weights: each vote weighs what the policy says, not what it claims', () => {
    const sm = new DecisionStateMachine();
    const policy: Policy = {
      kind: 'weighted',
      weights: { big: 7, small: 2, tiny: 1 },
      threshold: 8,
      deadlineMs: 1000,
      onDeadline: 'reject',
    };
    create(sm, 'pw', policy);
    // A voter cannot raise its own weight, and an agent the policy does not weigh cannot vote.
    expect(vote(sm, 'pw', 'small', 'yes', 1, 1000)).toMatchObject({
      counted: false,
      reason: 'weight-set-by-policy',
    });
    expect(vote(sm, 'pw', 'stranger', 'yes')).toMatchObject({
      counted: false,
      reason: 'not-a-voter',
    });
    expect(vote(sm, 'pw', 'small', 'yes')).toMatchObject({ counted: true, status: 'open' });
    expect(vote(sm, 'pw', 'tiny', 'no', 1, 1)).toMatchObject({ counted: true, status: 'open' });
    expect(sm.query({ type: 'proposal.get', proposalId: 'pw' })).toMatchObject({
      value: { tally: { yes: 2, no: 1 } },
    });
    expect(vote(sm, 'pw', 'big', 'yes')).toMatchObject({ status: 'decided', outcome: 'yes' });
    // The weights survive a snapshot.
    const restored = decodeSnapshot(encodeSnapshot(sm));
    if (!restored.ok) throw new Error(restored.error);
    expect(restored.sm.query({ type: 'proposal.get', proposalId: 'pw' })).toMatchObject({
      value: { tally: { yes: 9, no: 1 } },
    });
  });

  it('checks policy weights: weighted only, the voters they name, a reachable threshold', () => {
    const command = (policy: Record<string, unknown>) =>
      validateCommand({
        type: 'proposal.create',
        requestId: 'r',
        ts: 1,
        proposalId: 'p',
        options: ['a', 'b'],
        policy: { deadlineMs: 10, onDeadline: 'reject', ...policy },
      });
    const fine = { kind: 'weighted', weights: { x: 2, y: 3 }, threshold: 5 };
    expect(command(fine).ok).toBe(true);
    expect(command({ ...fine, voters: ['x', 'y'] }).ok).toBe(true);
    expect(command({ ...fine, voters: ['x'] })).toMatchObject({
      ok: false,
      errors: ['policy.voters must be exactly the agents of policy.weights'],
    });
    expect(command({ ...fine, threshold: 6 })).toMatchObject({
      ok: false,
      errors: ['policy.threshold 6 is more than all weights together (5)'],
    });
    expect(command({ ...fine, weights: { x: 0 } }).ok).toBe(false);
    expect(command({ kind: 'majority', quorum: 2, weights: { x: 1 } })).toMatchObject({
      ok: false,
      errors: ['policy.weights is only for kind weighted'],
    });
  });

  it.each([
    ['plurality', { status: 'decided', outcome: 'no' }],
    ['reject', { status: 'expired', outcome: null }],
    [{ default: 'yes' }, { status: 'decided', outcome: 'yes' }],
  ] as const)(
    'at the deadline, onDeadline %j closes it as %j, driven only by log time',
    (onDeadline, expected) => {
      const sm = new DecisionStateMachine();
      create(
        sm,
        'd',
        { kind: 'majority', voters: ['a', 'b', 'c', 'd', 'e'], deadlineMs: 1000, onDeadline },
        100,
      );
      vote(sm, 'd', 'a', 'no', 200);
      expect(sm.query({ type: 'proposal.get', proposalId: 'd' })).toMatchObject({
        value: { status: 'open' },
      });
      sm.apply(++counter, { type: 'clock', ts: 1099 });
      expect(sm.query({ type: 'proposal.get', proposalId: 'd' })).toMatchObject({
        value: { status: 'open' },
      });
      sm.apply(++counter, { type: 'clock', ts: 1100 });
      expect(sm.query({ type: 'proposal.get', proposalId: 'd' })).toMatchObject({
        found: true,
        value: expected,
      });
    },
  );

  it('plurality with no votes at all expires without an outcome', () => {
    const sm = new DecisionStateMachine();
    create(sm, 'e', { kind: 'majority', voters: ['a'], deadlineMs: 10, onDeadline: 'plurality' });
    sm.apply(++counter, { type: 'clock', ts: 10 });
    expect(sm.query({ type: 'proposal.get', proposalId: 'e' })).toMatchObject({
      value: { status: 'expired', outcome: null },
    });
  });

  it('a vote arriving after the deadline is not counted (the deadline is closed first)', () => {
    const sm = new DecisionStateMachine();
    create(sm, 'late', {
      kind: 'majority',
      voters: ['a', 'b', 'c'],
      deadlineMs: 50,
      onDeadline: 'reject',
    });
    expect(vote(sm, 'late', 'a', 'yes', 60)).toMatchObject({
      counted: false,
      reason: 'not-open',
      status: 'expired',
    });
  });
});

describe('determinism and snapshots', () => {
  const script: Command[] = [
    { type: 'kv.put', requestId: 'a1', ts: 1, key: 'k', value: 'v' },
    { type: 'inventory.restock', requestId: 'a2', ts: 2, sku: 's', quantity: 10 },
    { type: 'inventory.reserve', requestId: 'a3', ts: 3, sku: 's', orderId: 'o', quantity: 4 },
    { type: 'budget.set', requestId: 'a4', ts: 4, campaign: 'c', limit: 100 },
    { type: 'budget.spend', requestId: 'a5', ts: 5, campaign: 'c', bidId: 'b', amount: 30 },
    {
      type: 'proposal.create',
      requestId: 'a6',
      ts: 6,
      proposalId: 'p',
      options: ['x', 'y'],
      policy: {
        kind: 'majority',
        voters: ['1', '2', '3'],
        deadlineMs: 100,
        onDeadline: 'plurality',
      },
    },
    { type: 'proposal.vote', requestId: 'a7', ts: 7, proposalId: 'p', agentId: '1', option: 'x' },
  ];
  const run = () => {
    const sm = new DecisionStateMachine();
    script.forEach((c, i) => sm.apply(i + 1, c));
    return sm;
  };

  it('two replicas fed the same commands produce byte-identical snapshots', () => {
    expect(Buffer.from(encodeSnapshot(run())).equals(Buffer.from(encodeSnapshot(run())))).toBe(
      true,
    );
  });

  it('restores a snapshot that answers reads and later commands exactly as the original', () => {
    const original = run();
    const decoded = decodeSnapshot(encodeSnapshot(original));
    expect(decoded.ok).toBe(true);
    const copy = decoded.ok ? decoded.sm : original;
    for (const q of [
      { type: 'kv.get', key: 'k' },
      { type: 'inventory.get', sku: 's' },
      { type: 'budget.get', campaign: 'c' },
      { type: 'proposal.get', proposalId: 'p' },
    ]) {
      expect(copy.query(q)).toEqual(original.query(q));
    }
    const next: Command = {
      type: 'proposal.vote',
      requestId: 'a8',
      ts: 8,
      proposalId: 'p',
      agentId: '2',
      option: 'x',
    };
    expect(copy.apply(8, next)).toEqual(original.apply(8, next));
    // A retry after the restore is still deduplicated.
    expect(copy.apply(9, script[2]).replayed).toBe(true);
    expect(Buffer.from(encodeSnapshot(copy)).equals(Buffer.from(encodeSnapshot(original)))).toBe(
      true,
    );
  });

  it('keeps the Kafka mirror cursor monotonic, out of the session table, and in snapshots', () => {
    const sm = new DecisionStateMachine();
    expect(at(sm, { type: 'mirror.cursor', ts: 5, index: 40 }, 41)).toEqual({
      status: 'ok',
      mirroredIndex: 40,
    });
    // A stale leader's older cursor never moves it back.
    expect(at(sm, { type: 'mirror.cursor', ts: 6, index: 30 }, 42)).toEqual({
      status: 'ok',
      mirroredIndex: 40,
    });
    expect(sm.mirroredIndex).toBe(40);
    expect(sm.logTime).toBe(6);
    const decoded = decodeSnapshot(encodeSnapshot(sm));
    expect(decoded.ok && decoded.sm.mirroredIndex).toBe(40);
    expect(validateCommand({ type: 'mirror.cursor', ts: 1, index: -1 }).ok).toBe(false);
  });

  it('refuses corrupted, truncated and foreign snapshots with an error, never a throw', () => {
    const bytes = encodeSnapshot(run());
    const flipped = bytes.slice();
    flipped[bytes.length - 5] ^= 0x20;
    expect(decodeSnapshot(flipped)).toEqual({ ok: false, error: 'snapshot checksum mismatch' });
    expect(decodeSnapshot(bytes.subarray(0, 10)).ok).toBe(false);
    expect(decodeSnapshot(new TextEncoder().encode('{"__proto__":{"polluted":true}}')).ok).toBe(
      false,
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (random) =>
        expect(decodeSnapshot(random).ok).toBe(false),
      ),
      { numRuns: 2000 },
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('command validation and codec', () => {
  it('round-trips a command through the log encoding', () => {
    const command: Command = {
      type: 'budget.spend',
      requestId: 'x',
      ts: 5,
      campaign: 'c',
      bidId: 'b',
      amount: 3,
    };
    expect(decodeCommand(encodeCommand(command, 'json'))).toEqual({ ok: true, command });
    // The binary form also carries the fingerprint the session table keeps.
    expect(decodeCommand(encodeCommand(command))).toEqual({
      ok: true,
      command,
      print: fingerprintLanes(canonical(command)),
    });
    expect(encodeCommand(command)[0]).toBe(2);
    expect(encodeCommand(command, 'json')[0]).toBe(1);
  });

  it('names every bad field and refuses unknown ones', () => {
    const result = validateCommand({
      type: 'inventory.reserve',
      requestId: '',
      ts: 1,
      sku: 's',
      quantity: -2,
      extra: 1,
    });
    expect(result.ok).toBe(false);
    const errors = result.ok ? [] : result.errors;
    expect(errors).toEqual(
      expect.arrayContaining([
        'extra is not a known field',
        'requestId must be a string of 1-128 printable characters',
        'orderId must be a string of 1-128 printable characters',
        'quantity must be an integer from 1 to 1000000000',
      ]),
    );
  });

  it('refuses floating point amounts and oversized values', () => {
    expect(
      validateCommand({
        type: 'budget.spend',
        requestId: 'r',
        ts: 1,
        campaign: 'c',
        bidId: 'b',
        amount: 1.5,
      }).ok,
    ).toBe(false);
    expect(
      validateCommand({
        type: 'kv.put',
        requestId: 'r',
        ts: 1,
        key: 'k',
        value: 'x'.repeat(70_000),
      }).ok,
    ).toBe(false);
  });

  it('answers an error for any malformed log entry (fuzz)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) =>
        expect(typeof decodeCommand(bytes).ok).toBe('boolean'),
      ),
      { numRuns: 3000 },
    );
    fc.assert(
      fc.property(fc.json(), (json) => {
        const bytes = new Uint8Array([1, ...new TextEncoder().encode(json)]);
        expect(typeof decodeCommand(bytes).ok).toBe('boolean');
      }),
      { numRuns: 3000 },
    );
  });

  it('checks policies: threshold needs a percentage, weighted a total, the default an option', () => {
    const base = {
      type: 'proposal.create',
      requestId: 'r',
      ts: 1,
      proposalId: 'p',
      options: ['a', 'b'],
    };
    expect(
      validateCommand({
        ...base,
        policy: { kind: 'threshold', quorum: 3, deadlineMs: 10, onDeadline: 'reject' },
      }).ok,
    ).toBe(false);
    expect(
      validateCommand({
        ...base,
        policy: { kind: 'weighted', deadlineMs: 10, onDeadline: 'reject' },
      }).ok,
    ).toBe(false);
    expect(
      validateCommand({
        ...base,
        policy: { kind: 'majority', quorum: 3, deadlineMs: 10, onDeadline: { default: 'c' } },
      }).ok,
    ).toBe(false);
    expect(
      validateCommand({
        ...base,
        policy: { kind: 'majority', quorum: 3, deadlineMs: 10, onDeadline: { default: 'a' } },
      }).ok,
    ).toBe(true);
  });
});

describe('the decision core is pure', () => {
  it('uses no clock, randomness, timers, I/O or Nest', () => {
    const files = readdirSync(__dirname).filter(
      (f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'),
    );
    for (const file of files) {
      const text = readFileSync(join(__dirname, file), 'utf8');
      expect({
        file,
        offends:
          /\bDate\b|Math\.random|setTimeout|setInterval|process\.|from ['"](node:)?(fs|net|dgram|timers)|@nestjs/.test(
            text,
          ),
      }).toEqual({ file, offends: false });
    }
  });
});
