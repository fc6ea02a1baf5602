import { Policy } from './commands';

/**
 * When a proposal is decided, as pure functions of the policy and the tally.
 *
 * N, the electorate, is the number of listed voters, or `quorum` when no list is given.
 * - majority: an option wins once it holds more than half of N.
 * - threshold: an option wins once it holds at least `threshold` percent of N.
 * - unanimous: an option wins once all N voted for it; a vote for a second option makes
 *   unanimity impossible and decides the proposal with no outcome.
 * - weighted: every vote carries a weight, the first option whose total weight reaches
 *   `threshold` wins. The weight is the policy's (`weights[agentId]`) when the policy has
 *   weights, which is what makes them trustworthy: the proposer fixes them, not the voter.
 *   Without policy weights a vote's own `weight` counts (default 1), as before weights existed.
 * Tallies are integers; comparisons are done in integers (count * 100 ≥ threshold * N), never
 * in floating point.
 */
export type Verdict = { decided: false } | { decided: true; outcome: string | null };

export function electorate(policy: Policy): number {
  return policy.voters ? policy.voters.length : (policy.quorum ?? 0);
}

export function judge(
  policy: Policy,
  tally: ReadonlyMap<string, number>,
  votesCast: number,
): Verdict {
  const n = electorate(policy);
  const leaders = [...tally.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const [top, topCount] = leaders[0] ?? [undefined, 0];
  switch (policy.kind) {
    case 'majority':
      return top !== undefined && topCount * 2 > n
        ? { decided: true, outcome: top }
        : { decided: false };
    case 'threshold':
      return top !== undefined && topCount * 100 >= (policy.threshold ?? 100) * n
        ? { decided: true, outcome: top }
        : { decided: false };
    case 'unanimous': {
      const optionsVoted = [...tally.values()].filter((count) => count > 0).length;
      if (optionsVoted > 1) return { decided: true, outcome: null };
      return top !== undefined && votesCast >= n && topCount >= n
        ? { decided: true, outcome: top }
        : { decided: false };
    }
    case 'weighted':
      return top !== undefined && topCount >= (policy.threshold ?? Number.MAX_SAFE_INTEGER)
        ? { decided: true, outcome: top }
        : { decided: false };
  }
}

/** What happens at the deadline of an undecided proposal. */
export function atDeadline(
  policy: Policy,
  tally: ReadonlyMap<string, number>,
): { status: 'decided' | 'expired'; outcome: string | null } {
  if (policy.onDeadline === 'reject') return { status: 'expired', outcome: null };
  if (typeof policy.onDeadline === 'object')
    return { status: 'decided', outcome: policy.onDeadline.default };
  const leaders = [...tally.entries()]
    .filter(([, count]) => count > 0)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  return leaders.length === 0
    ? { status: 'expired', outcome: null }
    : { status: 'decided', outcome: leaders[0][0] };
}
