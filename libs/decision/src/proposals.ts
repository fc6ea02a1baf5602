import { Policy } from './commands';
import { atDeadline, judge } from './policy';

export interface Proposal {
  options: string[];
  policy: Policy;
  deadline: number;
  status: 'open' | 'decided' | 'expired';
  outcome: string | null;
  /** agentId → [option, weight], in vote order. */
  votes: Map<string, [string, number]>;
}

export type VoteResult = {
  counted: boolean;
  status: Proposal['status'];
  outcome?: string | null;
  reason?:
    | 'unknown-proposal'
    | 'not-open'
    | 'not-a-voter'
    | 'unknown-option'
    | 'already-voted'
    /** The policy fixes this voter's weight and the vote named another. */
    | 'weight-set-by-policy';
  index: number;
};

/**
 * Proposals and agent votes. Decisions are taken in log order, so every replica reaches the
 * same outcome at the same index; deadlines compare the leader's timestamps in the log (`ts`),
 * never a replica's clock, so a slow agent never holds a proposal past its deadline.
 */
export class Proposals {
  proposals = new Map<string, Proposal>();
  /**
   * Each proposal's running tally, kept up to date by every counted vote: summing all the votes
   * again at each one made a proposal's n votes cost O(n²) (4,000 votes on one proposal took
   * seconds). Weights are added per option in vote order either way, so the sums are the same.
   * A proposal restored from a snapshot has none until its first use.
   */
  private readonly tallies = new WeakMap<Proposal, Map<string, number>>();

  create(index: number, ts: number, proposalId: string, options: string[], policy: Policy) {
    if (this.proposals.has(proposalId))
      return { status: 'conflict' as const, reason: 'exists' as const, proposalId, index };
    this.proposals.set(proposalId, {
      options: [...options],
      policy,
      deadline: ts + policy.deadlineMs,
      status: 'open',
      outcome: null,
      votes: new Map(),
    });
    return { status: 'open' as const, proposalId, index };
  }

  /** `weight` is the vote's own (undefined: none given); policy weights, when set, win. */
  vote(
    index: number,
    proposalId: string,
    agentId: string,
    option: string,
    weight?: number,
  ): VoteResult {
    const proposal = this.proposals.get(proposalId);
    if (!proposal) return { counted: false, status: 'expired', reason: 'unknown-proposal', index };
    const view = {
      status: proposal.status,
      ...(proposal.status !== 'open' ? { outcome: proposal.outcome } : {}),
    };
    if (proposal.status !== 'open') return { counted: false, ...view, reason: 'not-open', index };
    const weights = proposal.policy.weights;
    const listed = weights
      ? Object.hasOwn(weights, agentId)
      : proposal.policy.voters?.includes(agentId);
    if (listed === false) return { counted: false, ...view, reason: 'not-a-voter', index };
    if (weights && weight !== undefined && weight !== weights[agentId])
      return { counted: false, ...view, reason: 'weight-set-by-policy', index };
    if (!proposal.options.includes(option))
      return { counted: false, ...view, reason: 'unknown-option', index };
    if (proposal.votes.has(agentId))
      return { counted: false, ...view, reason: 'already-voted', index };
    const counted = voteWeight(proposal.policy, agentId, weight);
    const tally = this.tally(proposal);
    proposal.votes.set(agentId, [option, counted]);
    tally.set(option, (tally.get(option) ?? 0) + counted);
    const verdict = judge(proposal.policy, tally, proposal.votes.size);
    if (verdict.decided) {
      proposal.status = 'decided';
      proposal.outcome = verdict.outcome;
      return { counted: true, status: 'decided', outcome: verdict.outcome, index };
    }
    return { counted: true, status: 'open', index };
  }

  /** Closes every open proposal whose deadline is at or before `ts`, in id order. */
  expire(ts: number): string[] {
    const closed: string[] = [];
    for (const id of [...this.proposals.keys()].sort()) {
      const proposal = this.proposals.get(id)!;
      if (proposal.status !== 'open' || ts < proposal.deadline) continue;
      const verdict = atDeadline(proposal.policy, this.tally(proposal));
      proposal.status = verdict.status;
      proposal.outcome = verdict.outcome;
      closed.push(id);
    }
    return closed;
  }

  /** The proposal's tally per option (the live one: read it, never change it). */
  tally(proposal: Proposal): Map<string, number> {
    const kept = this.tallies.get(proposal);
    if (kept) return kept;
    const tally = new Map<string, number>(proposal.options.map((o) => [o, 0]));
    for (const [option, weight] of proposal.votes.values())
      tally.set(option, (tally.get(option) ?? 0) + weight);
    this.tallies.set(proposal, tally);
    return tally;
  }

  get(proposalId: string) {
    const proposal = this.proposals.get(proposalId);
    if (!proposal) return undefined;
    return {
      proposalId,
      status: proposal.status,
      ...(proposal.status !== 'open' ? { outcome: proposal.outcome } : {}),
      tally: Object.fromEntries(this.tally(proposal)),
    };
  }
}

/** Only weighted policies weigh votes: by the policy's weights, else by the vote (default 1). */
function voteWeight(policy: Policy, agentId: string, weight: number | undefined): number {
  if (policy.kind !== 'weighted') return 1;
  return policy.weights?.[agentId] ?? weight ?? 1;
}
