import { NodeId } from './types';

export enum VoteResult {
  Pending = 'pending',
  Lost = 'lost',
  Won = 'won',
}

/**
 * A majority configuration: a decision needs more than half of `voters`. An empty
 * configuration agrees to everything, which makes the joint rules below work unchanged when
 * there is no outgoing configuration.
 */
export function majorityCommittedIndex(
  voters: ReadonlySet<NodeId>,
  acked: (id: NodeId) => number | undefined,
): number {
  if (voters.size === 0) return Number.MAX_SAFE_INTEGER;
  const matched: number[] = [];
  for (const id of voters) matched.push(acked(id) ?? 0);
  matched.sort((a, b) => b - a);
  // The index acknowledged by a quorum is the q-th largest, q = n/2 + 1.
  return matched[Math.floor(voters.size / 2)];
}

export function majorityVoteResult(
  voters: ReadonlySet<NodeId>,
  votes: ReadonlyMap<NodeId, boolean>,
): VoteResult {
  if (voters.size === 0) return VoteResult.Won;
  let granted = 0;
  let missing = 0;
  for (const id of voters) {
    const vote = votes.get(id);
    if (vote === undefined) missing += 1;
    else if (vote) granted += 1;
  }
  const quorum = Math.floor(voters.size / 2) + 1;
  if (granted >= quorum) return VoteResult.Won;
  if (granted + missing >= quorum) return VoteResult.Pending;
  return VoteResult.Lost;
}

/** Joint consensus (Raft dissertation §4.3): a decision needs a majority of both halves. */
export interface JointConfig {
  readonly incoming: ReadonlySet<NodeId>;
  readonly outgoing: ReadonlySet<NodeId>;
}

export function jointCommittedIndex(
  config: JointConfig,
  acked: (id: NodeId) => number | undefined,
): number {
  return Math.min(
    majorityCommittedIndex(config.incoming, acked),
    majorityCommittedIndex(config.outgoing, acked),
  );
}

export function jointVoteResult(
  config: JointConfig,
  votes: ReadonlyMap<NodeId, boolean>,
): VoteResult {
  const incoming = majorityVoteResult(config.incoming, votes);
  const outgoing = majorityVoteResult(config.outgoing, votes);
  if (incoming === outgoing) return incoming;
  if (incoming === VoteResult.Lost || outgoing === VoteResult.Lost) return VoteResult.Lost;
  return VoteResult.Pending;
}

export function jointIds(config: JointConfig): NodeId[] {
  return [...new Set([...config.incoming, ...config.outgoing])].sort();
}
