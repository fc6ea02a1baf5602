/** One node of `GET /v1/cluster` (SPEC §3), answering or not. */
export interface ClusterNode {
  id: string;
  address: string;
  /** The replica's Raft role, or `unreachable` when it did not answer its status call. */
  role: string;
  /** Unknown (null) for an unreachable node: only it knows its commit and applied indexes. */
  commitIndex: number | null;
  appliedIndex: number | null;
  /**
   * Milliseconds since the cluster last heard from this node: the leader's view (0 for the
   * leader itself); without an answering leader, the freshest view any answering replica has.
   * Null only when no answering replica ever heard from it.
   */
  lastContactMs: number | null;
  snapshotIndex: number | null;
  snapshotPendingUpload: number | null;
}

/**
 * The answering decision-api process's outbox (`Prefer: respond-async`): requests it holds
 * waiting for a decision. `state` is `off` without PARLEY_OUTBOX_DIR, `buffered` while no
 * leader takes its proposals, `pending` while they are being proposed, `idle` when empty.
 */
export interface OutboxView {
  state: 'off' | 'idle' | 'pending' | 'buffered';
  depth: number;
  bytes: number;
}

/** The replicas' part of `GET /v1/cluster`, as they describe themselves. */
export interface ReplicasView {
  leader: string | null;
  term: number;
  members: { voters: string[]; learners: string[] };
  nodes: ClusterNode[];
}

export interface ClusterView extends ReplicasView {
  /** This decision-api process's outbox (another process behind a balancer has its own). */
  outbox: OutboxView;
}
