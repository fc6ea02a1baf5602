import type { NodeStatus } from '@parley/command-log-api';
import type { ClusterNode, ReplicasView } from '@parley/decision-api-contract';

export type { ClusterNode, ClusterView } from '@parley/decision-api-contract';

/**
 * The cluster as the answering replicas describe it. Every member of the configuration is
 * listed, so a paused or partitioned replica shows up as `unreachable` instead of vanishing;
 * the configuration and the addresses are the leader's (or else the first answer's).
 */
export function clusterView(statuses: readonly NodeStatus[]): ReplicasView {
  const leaderStatus = statuses.find((s) => s.role === 'leader');
  const reference = leaderStatus ?? statuses[0];
  const members = reference.members;
  const answered = new Map(statuses.map((s) => [s.id, s]));
  const ids = [...new Set([...members.voters, ...members.learners, ...answered.keys()])].sort();
  const nodes = ids.map((id): ClusterNode => {
    const status = answered.get(id);
    const lastContactMs = lastContactOf(id, statuses, leaderStatus);
    if (!status) {
      const address = statuses.map((s) => s.peers?.[id]).find((a) => a !== undefined) ?? '';
      return {
        id,
        address,
        role: 'unreachable',
        commitIndex: null,
        appliedIndex: null,
        lastContactMs,
        snapshotIndex: null,
        snapshotPendingUpload: null,
      };
    }
    return {
      id,
      address: status.address,
      role: status.role,
      commitIndex: status.commitIndex,
      appliedIndex: status.appliedIndex,
      lastContactMs,
      snapshotIndex: status.snapshotIndex,
      snapshotPendingUpload: status.snapshotPendingUpload,
    };
  });
  return {
    leader: leaderStatus?.id ?? statuses.find((s) => s.leader)?.leader ?? null,
    term: Math.max(...statuses.map((s) => s.term)),
    members,
    nodes,
  };
}

function lastContactOf(
  id: string,
  statuses: readonly NodeStatus[],
  leader: NodeStatus | undefined,
): number | null {
  if (leader) return leader.id === id ? 0 : (leader.lastContactMs[id] ?? null);
  const views = statuses
    .filter((s) => s.id !== id)
    .map((s) => s.lastContactMs[id])
    .filter((ms): ms is number => typeof ms === 'number');
  return views.length > 0 ? Math.min(...views) : null;
}
