import { encodeCommand } from '@parley/decision';
import { DecisionStateMachineAdapter } from './decision-state-machine.adapter';

describe('the state machine adapter hands the mirror the command it decoded', () => {
  const put = (requestId: string) =>
    encodeCommand({ type: 'kv.put', requestId, key: 'k', value: requestId, ts: 1 });

  it('gives the last applied entry’s command, and nothing for any other index', () => {
    const adapter = new DecisionStateMachineAdapter();
    adapter.apply(1, put('a'));
    adapter.apply(2, put('b'));
    expect(adapter.appliedCommand(2)).toMatchObject({ type: 'kv.put', requestId: 'b' });
    expect(adapter.appliedCommand(1)).toBeUndefined();
  });

  it('gives nothing after an entry that did not decode', () => {
    const adapter = new DecisionStateMachineAdapter();
    adapter.apply(1, put('a'));
    adapter.apply(2, new Uint8Array([9, 9]));
    expect(adapter.appliedCommand(2)).toBeUndefined();
    expect(adapter.appliedCommand(1)).toBeUndefined();
  });
});
