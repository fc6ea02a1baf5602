import { decisionLine, EventStreamParser } from './watch';

describe('the event-stream parser of parley watch', () => {
  it('completes events at blank lines across chunks and skips heartbeats', () => {
    const parser = new EventStreamParser();
    expect(parser.push('event: decision\nid: 7\nda')).toEqual([]);
    expect(
      parser.push('ta: {"index":7}\n\n: heartbeat\n\nevent: overflow\r\ndata: {}\r\n\r\n'),
    ).toEqual([
      { event: 'decision', id: '7', data: '{"index":7}' },
      { event: 'overflow', data: '{}' },
    ]);
  });
});

describe('a decision as a line', () => {
  it('names the index, type, entity and outcome, and marks deadline decisions', () => {
    expect(
      decisionLine({
        index: 12,
        type: 'proposal.decided',
        entity: 'proposals/p1',
        result: { status: 'decided', outcome: 'yes' },
        decidedBy: 'deadline',
      }),
    ).toBe('12  proposal.decided  proposals/p1  decided (yes)  [deadline]');
    expect(
      decisionLine({
        index: 3,
        type: 'kv.put',
        entity: 'kv/a',
        result: { key: 'a' },
        decidedBy: 'command',
      }),
    ).toBe('3  kv.put  kv/a  ok');
  });
});
