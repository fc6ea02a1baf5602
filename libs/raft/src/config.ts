import { NodeId, NONE } from './types';
import { Storage } from './storage';

/** A seeded source of randomness injected into the core; the core has no other source. */
export interface RandomSource {
  /** An integer in [0, maxExclusive). */
  nextInt(maxExclusive: number): number;
}

export interface RaftConfig {
  readonly id: NodeId;
  /** Ticks a follower waits without hearing from a leader before campaigning. */
  readonly electionTick: number;
  /** Ticks between a leader's heartbeats; must be well below `electionTick`. */
  readonly heartbeatTick: number;
  readonly storage: Storage;
  /** The last applied index when restarting (entries up to it are not handed out again). */
  readonly applied?: number;
  /** Largest total entry bytes in one append message (batching bound). */
  readonly maxSizePerMsgBytes: number;
  /** Largest number of append messages in flight to one follower (pipelining bound). */
  readonly maxInflightMsgs: number;
  /** Largest number of entry bytes in flight to one follower; 0 means no byte bound. */
  readonly maxInflightBytes: number;
  /** Largest total bytes of uncommitted entries the leader accepts; 0 means no bound. */
  readonly maxUncommittedEntriesBytes: number;
  /** Largest number of committed entries handed to the application per Ready, in bytes. */
  readonly maxCommittedSizePerReadyBytes: number;
  /** Bytes per InstallSnapshot chunk. */
  readonly snapshotChunkBytes: number;
  /** Run a pre-election first so that a rejoining partitioned node cannot depose a leader. */
  readonly preVote: boolean;
  /** A leader steps down when it has not heard from a quorum for an election timeout. */
  readonly checkQuorum: boolean;
  /**
   * Ticks subtracted from the election timeout for a leader lease, covering the worst clock
   * drift between the leader and a follower over one election timeout. Lease reads need
   * `checkQuorum`.
   */
  readonly leaseDriftTicks: number;
  /**
   * Refuse a change of voters that would leave the cluster without a reachable quorum
   * (etcd's --strict-reconfig-check; reconfig-check.ts). A proposal may still pass `force`.
   */
  readonly strictReconfigCheck: boolean;
  /** Followers refuse proposals (with a leader hint) instead of forwarding them. */
  readonly disableProposalForwarding: boolean;
  /** Longest queue of read requests waiting for the leader's first commit in its term. */
  readonly maxPendingReads: number;
  readonly random: RandomSource;
  /** Optional sink for debug lines; pure: the caller decides where they go. */
  readonly logger?: (line: string) => void;
}

export type RaftConfigInit = Pick<RaftConfig, 'id' | 'storage' | 'random'> & Partial<RaftConfig>;

export const DEFAULT_RAFT_CONFIG = {
  electionTick: 10,
  heartbeatTick: 1,
  maxSizePerMsgBytes: 1024 * 1024,
  maxInflightMsgs: 256,
  maxInflightBytes: 0,
  maxUncommittedEntriesBytes: 64 * 1024 * 1024,
  maxCommittedSizePerReadyBytes: 4 * 1024 * 1024,
  snapshotChunkBytes: 1024 * 1024,
  preVote: true,
  checkQuorum: true,
  leaseDriftTicks: 2,
  strictReconfigCheck: true,
  disableProposalForwarding: false,
  maxPendingReads: 4096,
} as const;

/** Fills defaults and validates; a bad configuration is a programming error and throws. */
export function resolveRaftConfig(init: RaftConfigInit): RaftConfig {
  const config: RaftConfig = { ...DEFAULT_RAFT_CONFIG, ...init };
  const problems: string[] = [];
  if (config.id === NONE) problems.push('id must not be empty');
  if (config.heartbeatTick < 1) problems.push('heartbeatTick must be >= 1');
  if (config.electionTick <= config.heartbeatTick)
    problems.push('electionTick must be greater than heartbeatTick');
  if (config.maxInflightMsgs < 1) problems.push('maxInflightMsgs must be >= 1');
  if (config.maxSizePerMsgBytes < 1) problems.push('maxSizePerMsgBytes must be >= 1');
  if (config.snapshotChunkBytes < 1) problems.push('snapshotChunkBytes must be >= 1');
  if (config.leaseDriftTicks < 0 || config.leaseDriftTicks >= config.electionTick - 1)
    problems.push('leaseDriftTicks must be in [0, electionTick - 1)');
  if (config.maxPendingReads < 1) problems.push('maxPendingReads must be >= 1');
  if (problems.length > 0) throw new Error(`invalid raft config: ${problems.join('; ')}`);
  return config;
}
