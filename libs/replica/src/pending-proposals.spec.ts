import { Entry, EntryType } from '@parley/raft';
import { ProposeOutcome } from './outcomes';
import { PendingProposals } from './pending-proposals';

const entry = (index: number, term: number): Entry => ({
  index,
  term,
  type: EntryType.Normal,
  data: new Uint8Array([1]),
});

describe('PendingProposals', () => {
  it('answers applied only when the entry at its index has its term', () => {
    const proposals = new PendingProposals(10);
    const outcomes: ProposeOutcome[] = [];
    proposals.track({ status: 'appended', index: 7, term: 2 }, (o) => outcomes.push(o));
    proposals.track({ status: 'appended', index: 8, term: 2 }, (o) => outcomes.push(o));
    proposals.applied(entry(7, 2), 'ok');
    // A new leader overwrote index 8: the proposal never took effect.
    proposals.applied(entry(8, 3), 'other');
    expect(outcomes).toEqual([
      { status: 'applied', index: 7, result: 'ok' },
      { status: 'dropped' },
    ]);
  });

  it('drops what a snapshot covers and keeps the rest', () => {
    const proposals = new PendingProposals(10);
    const outcomes: string[] = [];
    for (const index of [3, 5, 9])
      proposals.track({ status: 'appended', index, term: 1 }, (o) =>
        outcomes.push(`${index}:${o.status}`),
      );
    proposals.dropUpTo(5);
    expect(outcomes).toEqual(['3:dropped', '5:dropped']);
    proposals.dropAll();
    expect(outcomes).toEqual(['3:dropped', '5:dropped', '9:dropped']);
  });

  it('is full at its bound, and answers a refusal at once', () => {
    const proposals = new PendingProposals(1);
    expect(proposals.full).toBe(false);
    proposals.track({ status: 'appended', index: 1, term: 1 }, () => undefined);
    expect(proposals.full).toBe(true);
    const outcomes: ProposeOutcome[] = [];
    proposals.track({ status: 'refused', refusal: { reason: 'no-leader' } }, (o) =>
      outcomes.push(o),
    );
    expect(outcomes).toEqual([{ status: 'refused', refusal: { reason: 'no-leader' } }]);
  });
});
