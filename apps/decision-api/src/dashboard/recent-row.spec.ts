import { recentRow } from './recent-row';

describe('a recent decision as a dashboard row', () => {
  const event = (result: Record<string, unknown>, type = 'kv.put') => ({
    index: 9,
    type,
    entity: 'kv/k',
    result,
    decidedBy: 'command' as const,
  });

  it('shows the status, the chosen option, a refusal title, or ok', () => {
    expect(recentRow(event({ status: 'rejected', reason: 'out-of-stock' })).outcome).toBe(
      'rejected',
    );
    expect(
      recentRow(event({ status: 'decided', outcome: 'yes' }, 'proposal.decided')).outcome,
    ).toBe('decided (yes)');
    expect(recentRow(event({ type: 'about:blank', title: 'Conflict', status: 409 })).outcome).toBe(
      'Conflict',
    );
    expect(recentRow(event({ key: 'k', value: 'v', version: 2, index: 9 }))).toEqual({
      index: 9,
      type: 'kv.put',
      entity: 'kv/k',
      outcome: 'ok',
      decidedBy: 'command',
    });
  });
});
