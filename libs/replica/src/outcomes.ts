import type { ProposalRefusal } from '@parley/raft';

export type ProposeOutcome =
  | { status: 'applied'; index: number; result: unknown }
  | { status: 'refused'; refusal: ProposalRefusal }
  /** The entry was overwritten by a new leader, or its fate is unknown here: retry (deduplicated). */
  | { status: 'dropped' };

export type ReadOutcome =
  { status: 'ready'; index: number } | { status: 'refused'; reason: string };
