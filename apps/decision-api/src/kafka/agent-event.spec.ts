import { parseAgentEvent } from './agent-event';

const parse = (record: object) => parseAgentEvent(Buffer.from(JSON.stringify(record)));

describe('agent-events records, checked with the REST bodies’ schemas', () => {
  it('turns a valid strong record into its command', () => {
    expect(
      parse({ type: 'reserve', requestId: 'r1', sku: 'gpu', orderId: 'o1', quantity: 2 }),
    ).toEqual({
      ok: true,
      entity: 'gpu',
      effect: {
        kind: 'strong',
        command: {
          type: 'inventory.reserve',
          requestId: 'r1',
          sku: 'gpu',
          orderId: 'o1',
          quantity: 2,
        },
      },
    });
  });

  it('names every bad field as REST does, and an unknown one as a field of its type', () => {
    expect(
      parse({ type: 'reserve', requestId: 'r', sku: 'w', orderId: 'o', quantity: -1 }),
    ).toEqual({ ok: false, reason: 'quantity must be an integer from 1 to 1000000000' });
    expect(parse({ type: 'restock', requestId: 'r', quantity: 1, colour: 'red' })).toEqual({
      ok: false,
      reason: `sku must be a string of 1-128 printable characters; colour is not a field of restock`,
    });
  });

  it('applies the state machine’s rules across fields too', () => {
    const policy = { kind: 'majority', deadlineMs: 1000, onDeadline: 'reject' };
    expect(
      parse({ type: 'propose', requestId: 'r', proposalId: 'p', options: ['a', 'b'], policy }),
    ).toEqual({ ok: false, reason: 'policy: majority needs voters or quorum' });
  });

  it('dead-letters an eventual record the crdt replica would refuse, instead of retrying it', () => {
    expect(parse({ type: 'increment', requestId: 'r', name: 'c', delta: 'many' })).toEqual({
      ok: false,
      reason: 'delta must be an integer between -1e12 and 1e12',
    });
    expect(parse({ type: 'set-add', requestId: 'r', name: 's', element: '' })).toEqual({
      ok: false,
      reason: 'element must be a non-empty string of at most 1 KiB',
    });
    expect(parse({ type: 'flag', requestId: 'r', name: 'bad name' })).toMatchObject({
      ok: false,
      reason: expect.stringContaining('name must be 1-128 characters') as unknown,
    });
    expect(parse({ type: 'increment', requestId: 'r', name: 'c', delta: 3 })).toMatchObject({
      ok: true,
      effect: { kind: 'eventual', write: { op: 'increment', name: 'c', delta: 3 } },
    });
  });
});

describe('agent-events records, checked with the crdt replica’s bounds too', () => {
  it('dead-letters a flag value the replica would refuse (over 4 KiB encoded)', () => {
    const value = Array.from({ length: 2_100 }, () => 0); // "0," x 2100: about 4.2 KB of JSON
    expect(
      parseAgentEvent(
        Buffer.from(JSON.stringify({ type: 'flag', requestId: 'r', name: 'f', value })),
      ),
    ).toEqual({
      ok: false,
      reason: 'a flag value must be JSON of at most 4 KiB',
    });
  });
});
