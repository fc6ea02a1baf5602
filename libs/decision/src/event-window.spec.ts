import type { DecisionEvent } from './decision-events';
import { EventWindow } from './event-window';

const event = (index: number): DecisionEvent => ({
  index,
  type: 'kv.put',
  entity: `kv/k${index}`,
  result: {},
  decidedBy: 'command',
});

describe('a window of recent decision events', () => {
  it('starts at its first append and covers the indexes between events', () => {
    const window = new EventWindow(10);
    window.append([], 20);
    window.append([event(22), event(25)], 26);
    expect(window.read(20, 10)).toEqual({ status: 'ok', events: [event(22), event(25)], upTo: 26 });
    expect(window.read(19, 10)).toEqual({ status: 'compacted', compactedIndex: 20 });
    expect(window.newest(1)).toEqual([event(25)]);
  });

  it('refuses an event outside the range it is appended with (a broken stream is a bug)', () => {
    const window = new EventWindow(10);
    window.append([], 5);
    expect(() => window.append([event(5)], 6)).toThrow(/outside/);
    expect(() => window.append([], 4)).toThrow();
  });

  it('stays bounded over a long run', () => {
    const window = new EventWindow(3);
    for (let index = 1; index <= 5_000; index += 1) window.append([event(index)], index);
    expect(window.size).toBe(3);
    expect(window.from).toBe(4_997);
    expect(window.newest(5).map((e) => e.index)).toEqual([5_000, 4_999, 4_998]);
  });
});
