import type { Alert } from './alert';

export interface DetectorLimits {
  /** More leader changes than this within the window raise `leader-changes`. */
  leaderChangesMax: number;
  leaderChangesWindowMs: number;
  /** An outbox deeper than this raises `outbox-depth` (again only after it fell back). */
  outboxDepthMax: number;
}

/**
 * Turns what decision-api sees of the cluster into alerts, edge-triggered so an alert is raised
 * once per episode: quorum lost when no command-log leader answers any more (a leader answers
 * only while it hears from a quorum: replicas run Raft's check-quorum), regained when one does
 * again; leader changes beyond a rate; the outbox above its threshold. Pure: the caller passes
 * the time and what it observed.
 */
export class PartitionDetector {
  /** Undefined until the first observation: no alert for how things were at start. */
  private leader: string | null | undefined;
  private lostAt?: number;
  private lastLeader: string | null = null;
  private readonly changes: number[] = [];
  private churnRaised = false;
  private outboxRaised = false;
  /** Every leader change seen (from one leader to another, a gap without one in between or not). */
  leaderChangesTotal = 0;

  constructor(private readonly limits: DetectorLimits) {}

  /** The leader that answered (null: none did) at `now`; the alerts this raises. */
  observeLeader(leader: string | null, term: number, now: number): Alert[] {
    const before = this.leader;
    this.leader = leader;
    const at = new Date(now).toISOString();
    const alerts: Alert[] = [];
    if (before === undefined) {
      if (leader === null) this.lostAt = now;
      else this.lastLeader = leader;
      return alerts;
    }
    if (before !== null && leader === null) {
      this.lostAt = now;
      alerts.push({ kind: 'quorum-lost', at, lastLeader: before, term });
    }
    if (before === null && leader !== null) {
      alerts.push({
        kind: 'quorum-regained',
        at,
        leader,
        term,
        lostForMs: this.lostAt === undefined ? null : now - this.lostAt,
      });
      this.lostAt = undefined;
    }
    if (leader !== null && leader !== this.lastLeader) {
      if (this.lastLeader !== null) {
        this.changes.push(now);
        this.leaderChangesTotal += 1;
      }
      this.lastLeader = leader;
    }
    while (this.changes.length > 0 && this.changes[0] <= now - this.limits.leaderChangesWindowMs)
      this.changes.shift();
    const churning = this.changes.length > this.limits.leaderChangesMax;
    if (churning && !this.churnRaised)
      alerts.push({
        kind: 'leader-changes',
        at,
        changes: this.changes.length,
        windowMs: this.limits.leaderChangesWindowMs,
        leader,
        term,
      });
    this.churnRaised = churning;
    return alerts;
  }

  observeOutbox(depth: number, now: number): Alert[] {
    const above = depth > this.limits.outboxDepthMax;
    const raise = above && !this.outboxRaised;
    this.outboxRaised = above;
    return raise
      ? [
          {
            kind: 'outbox-depth',
            at: new Date(now).toISOString(),
            depth,
            threshold: this.limits.outboxDepthMax,
          },
        ]
      : [];
  }
}
