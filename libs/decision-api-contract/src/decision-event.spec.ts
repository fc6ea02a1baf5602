import { decisionEvents, DecisionStateMachine } from '@parley/decision';
import { DECISION_EVENT, WATCH_QUERY } from './decision-event';

describe('the decision event schema', () => {
  it('accepts what the state machine emits and refuses an event without an entity', () => {
    const sm = new DecisionStateMachine();
    const command = { type: 'kv.put', requestId: 'r', ts: 1, key: 'k', value: 'v' } as const;
    const [event] = decisionEvents(1, command, sm.apply(1, command));
    expect(DECISION_EVENT.parse(event)).toEqual(event);
    expect(DECISION_EVENT.safeParse({ ...event, entity: '' }).success).toBe(false);
  });
});

describe('the watch query', () => {
  it('splits comma lists and refuses an index that is not digits', () => {
    expect(WATCH_QUERY.parse({ prefix: 'kv/,inventory/a', fromIndex: '12' })).toEqual({
      prefix: ['kv/', 'inventory/a'],
      fromIndex: 12,
    });
    expect(WATCH_QUERY.safeParse({ fromIndex: '-1' }).success).toBe(false);
    expect(WATCH_QUERY.safeParse({ colour: 'x' }).success).toBe(false);
  });
});
