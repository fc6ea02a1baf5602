import { encodeCommand } from '@parley/decision';
import { DecisionStateMachineAdapter } from './decision-state-machine.adapter';

describe('the state machine adapter hands the mirror and the watch the command it decoded', () => {
  const put = (requestId: string) =>
    encodeCommand({ type: 'kv.put', requestId, key: 'k', value: requestId, ts: 1 });

  it('keeps the last applied entry’s command and events, for that index only', () => {
    const adapter = new DecisionStateMachineAdapter();
    adapter.apply(1, put('a'));
    adapter.apply(2, put('b'));
    expect(adapter.lastApplied?.index).toBe(2);
    expect(adapter.lastApplied?.command).toMatchObject({ type: 'kv.put', requestId: 'b' });
    expect(adapter.lastApplied?.events).toEqual([
      expect.objectContaining({ index: 2, type: 'kv.put', entity: 'kv/k', requestId: 'b' }),
    ]);
  });

  it('keeps nothing after an entry that did not decode', () => {
    const adapter = new DecisionStateMachineAdapter();
    adapter.apply(1, put('a'));
    adapter.apply(2, new Uint8Array([9, 9]));
    expect(adapter.lastApplied).toBeUndefined();
  });
});
