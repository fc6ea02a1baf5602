import { JointConfig } from './quorum';
import { NodeId } from './types';

/** Why a membership change would leave the cluster without a reachable quorum. */
export interface UnsafeReconfiguration {
  /** Voters of the half (incoming or outgoing) that would lack a reachable quorum. */
  readonly voters: number;
  /** Votes that half needs: a majority of `voters`. */
  readonly quorum: number;
  /** Voters of that half the leader heard from within an election timeout (itself included). */
  readonly reachable: number;
  /** The voters of that half it did not hear from, sorted (a brand-new voter is one of them). */
  readonly unreachable: readonly NodeId[];
}

/**
 * The strict reconfiguration check (etcd's `--strict-reconfig-check`): a change of voters is
 * refused when a half of the resulting configuration would have fewer reachable voters than its
 * quorum, because the cluster would then stall (no commit, no election) until the unreachable
 * ones answer. A voter the leader has not heard from counts as unreachable, so adding a new
 * voter that is not running yet, or removing a healthy voter while another is down, is refused;
 * the safe path is a learner first, promoted once it has caught up (it is then reachable).
 * A change that leaves the voters as they are (adding or removing a learner) is never refused.
 */
export function unsafeReconfiguration(
  before: JointConfig,
  after: JointConfig,
  isReachable: (id: NodeId) => boolean,
): UnsafeReconfiguration | undefined {
  if (sameVoters(before, after)) return undefined;
  for (const half of [after.incoming, after.outgoing]) {
    if (half.size === 0) continue; // an empty outgoing half: not joint
    const ids = [...half].sort();
    const unreachable = ids.filter((id) => !isReachable(id));
    const quorum = Math.floor(ids.length / 2) + 1;
    const reachable = ids.length - unreachable.length;
    if (reachable < quorum) return { voters: ids.length, quorum, reachable, unreachable };
  }
  return undefined;
}

function sameVoters(a: JointConfig, b: JointConfig): boolean {
  const halves = (c: JointConfig) => [[...c.incoming].sort(), [...c.outgoing].sort()].join('|');
  return halves(a) === halves(b);
}

/** One sentence for an operator: the numbers, who is unreachable, and the safe paths. */
export function describeUnsafeReconfiguration(unsafe: UnsafeReconfiguration): string {
  const { voters, quorum, reachable, unreachable } = unsafe;
  return (
    `the change would leave ${voters} voters, which need ${quorum} for a quorum, but only ` +
    `${reachable} ${reachable === 1 ? 'is' : 'are'} reachable (not heard from within an ` +
    `election timeout: ${unreachable.join(', ')}); bring the unreachable voters back first, or ` +
    `add a new node as a learner and promote it once it has caught up`
  );
}
