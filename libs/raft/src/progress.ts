import { assert } from '@parley/common';
import { Inflights } from './inflights';

export enum ProgressState {
  /** Unknown match: send one append at a time and back up on rejection. */
  Probe = 'probe',
  /** Known match: stream appends optimistically, bounded by inflights. */
  Replicate = 'replicate',
  /** The follower needs a snapshot; appends wait until it is installed. */
  Snapshot = 'snapshot',
}

/**
 * The leader's view of one follower (Raft §5.3 nextIndex/matchIndex, plus the flow-control
 * states of etcd's tracker). Invariant: match < next.
 */
export class Progress {
  match = 0;
  next: number;
  state = ProgressState.Probe;
  /** Snapshot state: index of the snapshot being sent. */
  pendingSnapshot = 0;
  /** Snapshot state: bytes of the snapshot the follower acknowledged (resume point). */
  snapshotOffset = 0;
  /** Snapshot state: ticks since the last chunk acknowledgement (to resend a lost chunk). */
  snapshotIdleTicks = 0;
  /** Heard from since the last CheckQuorum. */
  recentActive = false;
  /**
   * The leader tick at which this follower last answered (-1: not since this leader took
   * over). Unlike `recentActive` it survives CheckQuorum's reset, so "reachable" never flips
   * to false just because a new check window began.
   */
  activeTick = -1;
  /** Probe state: an append is outstanding, wait for its answer or a heartbeat answer. */
  probeSent = false;
  /** Highest leader tick whose heartbeat or append this follower echoed (a lease's start). */
  ackedSentTick = -1;
  /** An append went to this follower since the last heartbeat tick. */
  appendSentSinceBeat = false;
  /** This follower answered an append since the last heartbeat tick. */
  appendAnsweredSinceBeat = false;
  readonly inflights: Inflights;

  constructor(
    next: number,
    maxInflightMsgs: number,
    maxInflightBytes: number,
    public isLearner: boolean,
  ) {
    this.next = next;
    this.inflights = new Inflights(maxInflightMsgs, maxInflightBytes);
  }

  private resetState(state: ProgressState): void {
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.snapshotOffset = 0;
    this.snapshotIdleTicks = 0;
    this.state = state;
    this.inflights.reset();
  }

  /** Raft §5.3: nextIndex is always past matchIndex (the follower holds everything ≤ match). */
  private assertMatchBeforeNext(): void {
    assert(this.match < this.next, `progress match ${this.match} not below next ${this.next}`);
  }

  /** The follower answered (an append, a heartbeat, a snapshot chunk) at leader tick `tick`. */
  markActive(tick: number): void {
    this.recentActive = true;
    this.activeTick = Math.max(this.activeTick, tick);
  }

  becomeProbe(): void {
    // Coming back from a snapshot, the follower has at least the snapshot.
    if (this.state === ProgressState.Snapshot) {
      const pending = this.pendingSnapshot;
      this.resetState(ProgressState.Probe);
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState(ProgressState.Probe);
      this.next = this.match + 1;
    }
    this.assertMatchBeforeNext();
  }

  becomeReplicate(): void {
    this.resetState(ProgressState.Replicate);
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    assert(snapshotIndex > 0, 'a snapshot transfer needs a snapshot');
    this.resetState(ProgressState.Snapshot);
    this.pendingSnapshot = snapshotIndex;
  }

  /** An append acknowledged up to `index`; returns whether it was news. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, index + 1);
    this.assertMatchBeforeNext();
    return updated;
  }

  /** After sending entries ending at `lastIndex` (bytes in size). */
  sentEntries(lastIndex: number, entryCount: number, bytes: number): void {
    if (this.state === ProgressState.Replicate) {
      if (entryCount > 0) {
        this.next = lastIndex + 1;
        this.inflights.add(lastIndex, bytes);
        this.assertMatchBeforeNext();
      }
    } else if (this.state === ProgressState.Probe) {
      this.probeSent = true;
    } else {
      assert(false, `sending entries in state ${this.state}`);
    }
  }

  /**
   * The follower rejected an append at `rejected`; `matchHint` is its guess of where the logs
   * agree. Returns false if the rejection is stale (out of order) and must be ignored.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === ProgressState.Replicate) {
      if (rejected <= this.match) return false; // stale: we already know a later match
      this.next = this.match + 1;
      return true;
    }
    // Probe: only the answer to the outstanding probe (next-1) counts.
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1, 1);
    this.probeSent = false;
    this.assertMatchBeforeNext();
    return true;
  }

  /** Whether the leader must hold appends to this follower for now. */
  isPaused(): boolean {
    switch (this.state) {
      case ProgressState.Probe:
        return this.probeSent;
      case ProgressState.Replicate:
        return this.inflights.full();
      case ProgressState.Snapshot:
        return true;
    }
  }

  describe(): string {
    return `match=${this.match} next=${this.next} state=${this.state}${this.isLearner ? ' learner' : ''}`;
  }
}
