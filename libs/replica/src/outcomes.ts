import type { ProposalRefusal } from '@parley/raft';

/**
 * Why the replica refused a proposal: the core's reasons, and its own bound on proposals
 * waiting to commit (`pendingProposalsMax`, back-pressure: retry after a pause).
 */
export type ReplicaRefusal = ProposalRefusal | { readonly reason: 'too-many-pending' };

export type ProposeOutcome =
  | { status: 'applied'; index: number; result: unknown }
  | { status: 'refused'; refusal: ReplicaRefusal }
  /** The entry was overwritten by a new leader, or its fate is unknown here: retry (deduplicated). */
  | { status: 'dropped' };

export type ReadOutcome =
  { status: 'ready'; index: number } | { status: 'refused'; reason: string };
