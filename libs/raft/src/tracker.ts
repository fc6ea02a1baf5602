import { JointConfig, VoteResult, jointCommittedIndex, jointIds, jointVoteResult } from './quorum';
import { Progress } from './progress';
import { ConfState, NodeId } from './types';

/** The membership as the core tracks it: voters (possibly joint) and learners. */
export interface TrackerConfig {
  readonly voters: JointConfig;
  readonly learners: ReadonlySet<NodeId>;
  /** Outgoing voters that become learners when the joint configuration is left. */
  readonly learnersNext: ReadonlySet<NodeId>;
  readonly autoLeave: boolean;
}

export const EMPTY_TRACKER_CONFIG: TrackerConfig = {
  voters: { incoming: new Set(), outgoing: new Set() },
  learners: new Set(),
  learnersNext: new Set(),
  autoLeave: false,
};

export function isJoint(config: TrackerConfig): boolean {
  return config.voters.outgoing.size > 0;
}

export function toConfState(config: TrackerConfig): ConfState {
  return {
    voters: [...config.voters.incoming].sort(),
    votersOutgoing: [...config.voters.outgoing].sort(),
    learners: [...config.learners].sort(),
    learnersNext: [...config.learnersNext].sort(),
    autoLeave: config.autoLeave,
  };
}

/**
 * The leader's progress for every member, the votes of the current election, and the
 * membership. Iteration is always in sorted id order so that runs are deterministic.
 */
export class ProgressTracker {
  config: TrackerConfig = EMPTY_TRACKER_CONFIG;
  progress = new Map<NodeId, Progress>();
  readonly votes = new Map<NodeId, boolean>();

  /** Every member (voters and learners), sorted. */
  ids(): NodeId[] {
    return [...this.progress.keys()].sort();
  }

  voterIds(): NodeId[] {
    return jointIds(this.config.voters);
  }

  isVoter(id: NodeId): boolean {
    return this.config.voters.incoming.has(id) || this.config.voters.outgoing.has(id);
  }

  isSingleton(): boolean {
    return this.config.voters.incoming.size === 1 && this.config.voters.outgoing.size === 0;
  }

  /** The largest index acknowledged by a quorum (of both halves when joint). */
  committed(): number {
    return jointCommittedIndex(this.config.voters, (id) => this.progress.get(id)?.match);
  }

  /** The largest leader tick echoed by a quorum: the leader's lease starts there. */
  quorumAckedSentTick(): number {
    return jointCommittedIndex(this.config.voters, (id) => this.progress.get(id)?.ackedSentTick);
  }

  /** CheckQuorum: did a quorum talk to us since the last check? */
  quorumActive(self: NodeId): boolean {
    const votes = new Map<NodeId, boolean>();
    for (const [id, pr] of this.progress) {
      if (!pr.isLearner) votes.set(id, id === self || pr.recentActive);
    }
    return jointVoteResult(this.config.voters, votes) === VoteResult.Won;
  }

  resetVotes(): void {
    this.votes.clear();
  }

  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    for (const id of this.voterIds()) {
      const vote = this.votes.get(id);
      if (vote === true) granted += 1;
      else if (vote === false) rejected += 1;
    }
    return { granted, rejected, result: jointVoteResult(this.config.voters, this.votes) };
  }
}
