import { decisionLine } from './watch';

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
