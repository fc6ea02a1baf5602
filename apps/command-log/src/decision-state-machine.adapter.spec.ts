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

describe('the command format a replica writes', () => {
  const command = { type: 'kv.put', requestId: 'r', key: 'k', value: 'v', ts: 1 };

  it('is binary by default and JSON when asked (a rolling upgrade), and both apply alike', () => {
    const binary = new DecisionStateMachineAdapter();
    const json = new DecisionStateMachineAdapter(undefined, 'json');
    const written = [binary, json].map((adapter) => {
      const encoded = adapter.encodeCommand(command);
      if (!('bytes' in encoded)) throw new Error(encoded.error);
      return encoded.bytes;
    });
    expect(written.map((bytes) => bytes[0])).toEqual([2, 1]);
    expect(json.encodeOwnCommand({ type: 'clock', ts: 5 })[0]).toBe(1);
    expect(binary.encodeOwnCommand({ type: 'clock', ts: 5 })[0]).toBe(2);
    // A replica reads either: the same results, and a retry in the other format is a replay.
    const reader = new DecisionStateMachineAdapter();
    const first = reader.apply(1, written[0]) as { result: unknown; replayed: boolean };
    const retry = reader.apply(2, written[1]) as { result: unknown; replayed: boolean };
    expect(first.replayed).toBe(false);
    expect(retry).toEqual({ result: first.result, replayed: true });
  });

  it('refuses a command that does not validate, in either format', () => {
    for (const format of ['binary', 'json'] as const) {
      const adapter = new DecisionStateMachineAdapter(undefined, format);
      expect(adapter.encodeCommand({ ...command, key: '' })).toEqual({
        error: expect.stringContaining('key'),
      });
    }
  });
});
