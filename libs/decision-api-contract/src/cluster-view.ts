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

export interface ClusterView {
  leader: string | null;
  term: number;
  members: { voters: string[]; learners: string[] };
  nodes: ClusterNode[];
}
