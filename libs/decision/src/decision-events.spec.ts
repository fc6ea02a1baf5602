import { Command, Policy } from './commands';
import { decisionEvents, restAnswer } from './decision-events';
import { DecisionStateMachine } from './state-machine';

const policy: Policy = {
  kind: 'majority',
  voters: ['a', 'b', 'c'],
  deadlineMs: 100,
  onDeadline: 'plurality',
};

function applied(sm: DecisionStateMachine, index: number, command: Command) {
  return decisionEvents(index, command, sm.apply(index, command));
}

describe('decision events of an applied entry', () => {
  it('carries the REST body of the command as its result', () => {
    const sm = new DecisionStateMachine();
    applied(sm, 1, { type: 'inventory.restock', requestId: 'r1', ts: 1, sku: 's', quantity: 1 });
    const events = applied(sm, 2, {
      type: 'inventory.reserve',
      requestId: 'r2',
      ts: 2,
      sku: 's',
      orderId: 'o',
      quantity: 5,
    });
    expect(events).toEqual([
      {
        index: 2,
        type: 'inventory.reserve',
        entity: 'inventory/s',
        requestId: 'r2',
        result: { status: 'rejected', reason: 'out-of-stock', available: 1, index: 2 },
        decidedBy: 'command',
      },
    ]);
  });

  it('reports a proposal closed at its deadline by a clock entry', () => {
    const sm = new DecisionStateMachine();
    applied(sm, 1, {
      type: 'proposal.create',
      requestId: 'p',
      ts: 0,
      proposalId: 'p1',
      options: ['x', 'y'],
      policy,
    });
    applied(sm, 2, {
      type: 'proposal.vote',
      requestId: 'v',
      ts: 10,
      proposalId: 'p1',
      agentId: 'a',
      option: 'y',
    });
    expect(applied(sm, 3, { type: 'clock', ts: 99 })).toEqual([]);
    expect(applied(sm, 4, { type: 'clock', ts: 100 })).toEqual([
      {
        index: 4,
        type: 'proposal.decided',
        entity: 'proposals/p1',
        result: { proposalId: 'p1', status: 'decided', outcome: 'y', tally: { x: 0, y: 1 } },
        decidedBy: 'deadline',
      },
    ]);
    expect(applied(sm, 5, { type: 'clock', ts: 200 })).toEqual([]);
  });

  it('puts deadline decisions before the outcome of the command whose timestamp closed them', () => {
    const sm = new DecisionStateMachine();
    for (const [index, id] of [
      [1, 'b'],
      [2, 'a'],
    ] as const)
      applied(sm, index, {
        type: 'proposal.create',
        requestId: `c${id}`,
        ts: 0,
        proposalId: id,
        options: ['x', 'y'],
        policy: { ...policy, onDeadline: 'reject' },
      });
    const events = applied(sm, 3, {
      type: 'kv.put',
      requestId: 'k',
      ts: 500,
      key: 'k',
      value: 'v',
    });
    expect(events.map((e) => [e.type, e.entity, e.decidedBy])).toEqual([
      ['proposal.decided', 'proposals/a', 'deadline'],
      ['proposal.decided', 'proposals/b', 'deadline'],
      ['kv.put', 'kv/k', 'command'],
    ]);
    expect(events[0].result).toMatchObject({ status: 'expired', outcome: null });
  });

  it('gives no event for a replay, a session refusal or the log bookkeeping', () => {
    const sm = new DecisionStateMachine();
    const put: Command = { type: 'kv.put', requestId: 'same', ts: 1, key: 'k', value: 'v' };
    expect(applied(sm, 1, put)).toHaveLength(1);
    expect(applied(sm, 2, put)).toEqual([]);
    expect(applied(sm, 3, { ...put, value: 'other' })).toEqual([]);
    expect(applied(sm, 4, { type: 'mirror.cursor', ts: 2, index: 3 })).toEqual([]);
  });

  it('carries the problem body for a refused compare-and-set, as REST answers 409', () => {
    const sm = new DecisionStateMachine();
    applied(sm, 1, { type: 'kv.put', requestId: 'a', ts: 1, key: 'k', value: 'v' });
    const [event] = applied(sm, 2, {
      type: 'kv.put',
      requestId: 'b',
      ts: 2,
      key: 'k',
      value: 'w',
      ifVersion: 5,
    });
    expect(event.result).toEqual({
      type: 'about:blank',
      title: 'Conflict',
      status: 409,
      detail: 'key k is at version 1',
    });
  });
});

describe('REST answers', () => {
  it('answers 201 for a new proposal and 404 for releasing an unknown reservation', () => {
    expect(
      restAnswer(
        {
          type: 'proposal.create',
          requestId: 'r',
          ts: 0,
          proposalId: 'p',
          options: ['a', 'b'],
          policy,
        },
        { status: 'open', proposalId: 'p', index: 3 },
      ),
    ).toEqual({ status: 201, body: { proposalId: 'p', status: 'open' } });
    expect(
      restAnswer(
        { type: 'inventory.release', requestId: 'r', ts: 0, sku: 's', orderId: 'o' },
        { status: 'not-found', sku: 's' },
      ).status,
    ).toBe(404);
  });
});
