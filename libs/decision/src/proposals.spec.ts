import fc from 'fast-check';
import { Policy } from './commands';
import { judge } from './policy';
import { Proposal, Proposals } from './proposals';

/** The tally as it was computed before it was kept: every vote summed again, in vote order. */
function summedAgain(proposal: Proposal): Map<string, number> {
  const tally = new Map<string, number>(proposal.options.map((o) => [o, 0]));
  for (const [option, weight] of proposal.votes.values())
    tally.set(option, (tally.get(option) ?? 0) + weight);
  return tally;
}

/** A copy with new objects, as a snapshot restore makes them. */
function restored(from: Proposals): Proposals {
  const copy = new Proposals();
  for (const [id, p] of from.proposals)
    copy.proposals.set(id, { ...p, options: [...p.options], votes: new Map(p.votes) });
  return copy;
}

describe('Proposals: the kept tally', () => {
  it('equals the votes summed again after every vote, across restores, with the same verdicts', () => {
    const policies: Policy[] = [
      { kind: 'weighted', threshold: 1e9, deadlineMs: 1e9, onDeadline: 'plurality' },
      { kind: 'majority', quorum: 1_000, deadlineMs: 1e9, onDeadline: 'reject' },
      { kind: 'threshold', quorum: 50, threshold: 90, deadlineMs: 1e9, onDeadline: 'reject' },
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...policies),
        fc.array(
          fc.record({
            agent: fc.integer({ min: 0, max: 60 }),
            option: fc.constantFrom('a', 'b', 'c', 'zz'),
            weight: fc.option(fc.double({ min: 0.001, max: 1_000, noNaN: true }), {
              nil: undefined,
            }),
            restore: fc.boolean(),
          }),
          { maxLength: 120 },
        ),
        (policy, votes) => {
          let proposals = new Proposals();
          proposals.create(1, 0, 'p', ['a', 'b', 'c'], policy);
          votes.forEach((v, i) => {
            if (v.restore) proposals = restored(proposals);
            const before = proposals.proposals.get('p')!;
            const wasOpen = before.status === 'open';
            const weight = policy.kind === 'weighted' ? v.weight : undefined;
            const result = proposals.vote(i + 2, 'p', `agent-${v.agent}`, v.option, weight);
            const proposal = proposals.proposals.get('p')!;
            const expected = summedAgain(proposal);
            expect(proposals.get('p')!.tally).toEqual(Object.fromEntries(expected));
            if (wasOpen && result.counted) {
              const verdict = judge(policy, expected, proposal.votes.size);
              expect(result.status).toBe(verdict.decided ? 'decided' : 'open');
            }
          });
        },
      ),
    );
  });

  it('costs the same per vote whether a proposal holds ten votes or ten thousand', () => {
    // Counted in tally reads, not timed: a vote must not walk the votes already cast.
    const proposals = new Proposals();
    proposals.create(1, 0, 'p', ['yes', 'no'], {
      kind: 'majority',
      quorum: 100_000,
      deadlineMs: 1e9,
      onDeadline: 'reject',
    });
    const proposal = proposals.proposals.get('p')!;
    let walked = 0;
    const values = proposal.votes.values.bind(proposal.votes);
    proposal.votes.values = () => {
      walked += 1;
      return values();
    };
    for (let i = 0; i < 10_000; i += 1) proposals.vote(i + 2, 'p', `a${i}`, i % 2 ? 'yes' : 'no');
    expect(walked).toBeLessThanOrEqual(1);
    expect(proposals.get('p')!.tally).toEqual({ yes: 5_000, no: 5_000 });
  });
});
