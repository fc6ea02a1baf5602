import { assert } from '@parley/common';
import { RaftConfigInit } from './config';
import { ConfChange, ConfChangeType, decodeConfChange, encodeConfChange } from './confchange';
import { LEASE_READ, leaseStartTick, leaseValid } from './leader';
import { ProgressState } from './progress';
import { Raft } from './raft';
import { isJoint, toConfState } from './tracker';
import {
  ConfState,
  Entry,
  EntryType,
  HardState,
  Message,
  MessageType,
  NONE,
  NodeId,
  ProposalResult,
  ReadMode,
  ReadRequestResult,
  Ready,
  Role,
  SoftState,
  isLocalMessage,
  isResponseMessage,
  message,
} from './types';

export interface ProgressStatus {
  readonly match: number;
  readonly next: number;
  readonly state: ProgressState;
  readonly isLearner: boolean;
  readonly recentActive: boolean;
  /** Answered within the last election timeout (what the strict reconfiguration check uses). */
  readonly reachable: boolean;
  readonly inflight: number;
}

/** A read-only view of a replica, for dashboards, metrics and tests. */
export interface Status {
  readonly id: NodeId;
  readonly term: number;
  readonly vote: NodeId;
  readonly commit: number;
  readonly applied: number;
  readonly lastIndex: number;
  readonly firstIndex: number;
  readonly lead: NodeId;
  readonly role: Role;
  readonly leadTransferee: NodeId;
  readonly confState: ConfState;
  readonly isJoint: boolean;
  readonly leaseValid: boolean;
  /** Only on the leader: its view of every member. */
  readonly progress: ReadonlyMap<NodeId, ProgressStatus>;
}

export type StepResult = { readonly ok: true } | { readonly ok: false; readonly error: string };

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

/**
 * The application's handle on a Raft replica: feed it ticks, messages and proposals; take
 * `ready()` batches, carry them out in the documented order, and `advance()`. Between
 * `ready()` and `advance()` the application must not call `step()` or `tick()`.
 */
export class RawNode {
  readonly raft: Raft;
  private prevSoftState: SoftState;
  private prevHardState: HardState;
  private readyInProgress: Ready | undefined;
  /** Local proposals were appended; send appends once, at the next ready(). */
  private broadcastPending = false;

  constructor(config: RaftConfigInit) {
    this.raft = new Raft(config);
    this.prevSoftState = this.raft.softState();
    this.prevHardState = this.raft.storage().initialState().hardState;
  }

  /**
   * Starts a brand-new cluster: the initial voters become committed ConfChange entries 1..n in
   * term 1, so the membership lives in the log and a node added later learns it by replication.
   * Every initial member bootstraps with the same list; never call this on a restart.
   */
  bootstrap(voters: readonly NodeId[]): void {
    assert(voters.length > 0, 'bootstrap needs at least one voter');
    assert(this.raft.log.lastIndex() === 0, 'bootstrap on a non-empty log');
    const sorted = [...new Set(voters)].sort();
    const entries: Entry[] = sorted.map((id, i) => ({
      term: 1,
      index: i + 1,
      type: EntryType.ConfChange,
      data: encodeConfChange({
        transition: 'auto',
        changes: [{ type: ConfChangeType.AddNode, nodeId: id }],
      }),
    }));
    this.raft.becomeFollower(1, NONE);
    this.raft.log.append(entries);
    this.raft.log.committed = entries.length;
    for (const entry of entries) {
      const cc = decodeConfChange(entry.data);
      assert(!('error' in cc), 'bootstrap conf change must decode');
      const applied = this.raft.applyConfChange(cc);
      assert(applied.ok, `bootstrap conf change must apply: ${applied.ok ? '' : applied.error}`);
    }
  }

  tick(): void {
    this.assertNotInReady('tick');
    this.raft.tick();
  }

  /** Ticks so far (monotonic): the driver keeps the time each one happened at. */
  get ticks(): number {
    return this.raft.ticks;
  }

  /**
   * The tick at which the leader sent the heartbeat or append that a quorum last echoed: where
   * its lease starts (`leaseValid`), or -1 when it does not lead. A driver whose ticks can fall
   * behind real time (a stalled event loop fires one late timer, not the ones it missed) checks
   * the lease against its clock too: followers count their election timeouts in real time.
   */
  leaseStartTick(): number {
    return leaseStartTick(this.raft);
  }

  /** Starts an election now (used by tests and by an operator's "campaign"). */
  campaign(): void {
    this.assertNotInReady('campaign');
    this.raft.step(message({ type: MessageType.Hup, from: this.raft.id }));
  }

  /**
   * Steps a message from the network. Local-only message types and responses from non-members
   * are refused here, so a peer cannot forge a timer or a transport report.
   */
  step(m: Message): StepResult {
    this.assertNotInReady('step');
    if (isLocalMessage(m.type)) return { ok: false, error: `${m.type} is a local message type` };
    if (m.from === NONE) return { ok: false, error: 'message without a sender' };
    if (isResponseMessage(m.type) && !this.raft.tracker.progress.has(m.from)) {
      return { ok: false, error: `response from non-member ${m.from}` };
    }
    this.raft.step(m);
    return { ok: true };
  }

  /**
   * Proposes one command. On the leader it is appended at once; the appends to followers go
   * out with the next `ready()`, so every proposal made between two Ready cycles travels in
   * one message per follower (batching without any timer).
   */
  propose(data: Uint8Array): ProposalResult {
    return this.proposeEntry({ term: 0, index: 0, type: EntryType.Normal, data });
  }

  /**
   * Proposes a membership change. The leader refuses one while another is pending, one that is
   * invalid, and (unless `force`) one the strict reconfiguration check finds unsafe.
   */
  proposeConfChange(cc: ConfChange, options: { force?: boolean } = {}): ProposalResult {
    const r = this.raft;
    if (r.role === Role.Leader) {
      if (r.pendingConfIndex > r.log.applied)
        return { status: 'refused', refusal: { reason: 'conf-change-pending' } };
      const refusal = r.checkConfChange(cc, options.force === true);
      if (refusal !== undefined) return { status: 'refused', refusal };
    }
    const result = this.proposeEntry({
      term: 0,
      index: 0,
      type: EntryType.ConfChange,
      data: encodeConfChange(cc),
    });
    if (result.status === 'appended') r.pendingConfIndex = result.index;
    return result;
  }

  private proposeEntry(entry: Entry): ProposalResult {
    this.assertNotInReady('propose');
    const r = this.raft;
    if (r.role !== Role.Leader) {
      if (r.lead === NONE) return { status: 'refused', refusal: { reason: 'no-leader' } };
      if (r.cfg.disableProposalForwarding) {
        return { status: 'refused', refusal: { reason: 'not-leader', leaderHint: r.lead } };
      }
      r.send({ type: MessageType.Prop, to: r.lead, entries: [entry] });
      return { status: 'forwarded', leaderHint: r.lead };
    }
    if (!r.tracker.progress.has(r.id))
      return { status: 'refused', refusal: { reason: 'no-leader' } };
    if (r.leadTransferee !== NONE)
      return { status: 'refused', refusal: { reason: 'transferring-leadership' } };
    if (!r.appendEntries([entry])) return { status: 'refused', refusal: { reason: 'too-large' } };
    this.broadcastPending = true;
    return { status: 'appended', index: r.log.lastIndex(), term: r.term };
  }

  /**
   * Applies a committed ConfChange entry; returns the membership after it. Called while
   * applying a Ready's committed entries (before `advance()`), in log order.
   */
  applyConfChange(
    cc: ConfChange,
  ): { ok: true; confState: ConfState } | { ok: false; error: string } {
    return this.raft.applyConfChange(cc);
  }

  /**
   * Asks for a linearizable read point. The answer arrives as a ReadState with `requestCtx`
   * in a later Ready; serve the read once the application has applied up to its index.
   */
  readIndex(requestCtx: string, mode: ReadMode = 'read-index'): ReadRequestResult {
    this.assertNotInReady('readIndex');
    const r = this.raft;
    if (r.lead === NONE) return { status: 'refused', reason: 'no-leader' };
    const before = r.pendingReadIndexMessages.length + r.readOnly.size + r.readStates.length;
    r.step(
      message({
        type: MessageType.ReadIndex,
        from: r.id,
        context: requestCtx,
        index: mode === 'lease' ? LEASE_READ : 0,
      }),
    );
    if (r.role !== Role.Leader) return { status: 'forwarded' };
    const after = r.pendingReadIndexMessages.length + r.readOnly.size + r.readStates.length;
    if (after === before && !r.readStates.some((s) => s.requestCtx === requestCtx)) {
      return { status: 'refused', reason: 'too-many-pending-reads' };
    }
    return { status: 'queued' };
  }

  transferLeadership(to: NodeId): void {
    this.assertNotInReady('transferLeadership');
    this.raft.step(message({ type: MessageType.TransferLeader, from: this.raft.id, context: to }));
  }

  reportUnreachable(id: NodeId): void {
    if (this.raft.role === Role.Leader)
      this.raft.step(message({ type: MessageType.Unreachable, from: id }));
  }

  reportSnapshot(id: NodeId, failed: boolean): void {
    if (this.raft.role === Role.Leader)
      this.raft.step(message({ type: MessageType.SnapStatus, from: id, reject: failed }));
  }

  hasReady(): boolean {
    const r = this.raft;
    if (this.broadcastPending) return true;
    const soft = r.softState();
    if (soft.lead !== this.prevSoftState.lead || soft.role !== this.prevSoftState.role) return true;
    if (!sameHardState(r.hardState(), this.prevHardState)) return true;
    if (r.log.hasPendingSnapshot()) return true;
    if (r.msgs.length > 0 || r.log.unstable.entries.length > 0 || r.readStates.length > 0)
      return true;
    return r.log.hasNextCommittedEntries();
  }

  ready(): Ready {
    this.assertNotInReady('ready');
    const r = this.raft;
    if (this.broadcastPending) {
      this.broadcastPending = false;
      if (r.role === Role.Leader) r.bcastAppend();
    }
    const soft = r.softState();
    const hard = r.hardState();
    const softChanged =
      soft.lead !== this.prevSoftState.lead || soft.role !== this.prevSoftState.role;
    const hardChanged = !sameHardState(hard, this.prevHardState);
    // What the application persists never moves back: the term (§5.1) and the commit index.
    assert(hard.term >= this.prevHardState.term, `hard state term went back to ${hard.term}`);
    assert(
      hard.commit >= this.prevHardState.commit,
      `hard state commit went back from ${this.prevHardState.commit} to ${hard.commit}`,
    );
    const snapshot = r.log.unstable.snapshot;
    const entries = r.log.unstable.entries.slice();
    const rd: Ready = {
      softState: softChanged ? soft : undefined,
      hardState: hardChanged ? hard : undefined,
      readStates: r.readStates,
      entries,
      snapshot,
      // Entries after a snapshot wait until the snapshot is applied.
      committedEntries: snapshot ? [] : r.log.nextCommittedEntries(),
      messages: r.msgs,
      mustSync:
        entries.length > 0 ||
        hard.term !== this.prevHardState.term ||
        hard.vote !== this.prevHardState.vote,
    };
    r.msgs = [];
    r.readStates = [];
    this.readyInProgress = rd;
    return rd;
  }

  /** The application has carried out `rd` (persisted, sent, applied). */
  advance(rd: Ready): void {
    assert(this.readyInProgress === rd, 'advance() with a Ready that is not the outstanding one');
    this.readyInProgress = undefined;
    const r = this.raft;
    if (rd.softState) this.prevSoftState = rd.softState;
    if (rd.hardState) this.prevHardState = rd.hardState;
    if (rd.snapshot) {
      r.log.stableSnapTo(rd.snapshot.meta.index);
      r.log.appliedTo(rd.snapshot.meta.index);
    }
    if (rd.entries.length > 0) {
      const last = rd.entries[rd.entries.length - 1];
      r.log.stableTo(last.index, last.term);
    }
    if (rd.committedEntries.length > 0) {
      r.log.appliedTo(rd.committedEntries[rd.committedEntries.length - 1].index);
      r.reduceUncommittedBytes(rd.committedEntries);
    }
  }

  status(): Status {
    const r = this.raft;
    const progress = new Map<NodeId, ProgressStatus>();
    if (r.role === Role.Leader) {
      for (const id of r.tracker.ids()) {
        const pr = r.tracker.progress.get(id)!;
        progress.set(id, {
          match: pr.match,
          next: pr.next,
          state: pr.state,
          isLearner: pr.isLearner,
          recentActive: pr.recentActive,
          reachable: r.isReachable(id),
          inflight: pr.inflights.count,
        });
      }
    }
    return {
      id: r.id,
      term: r.term,
      vote: r.vote,
      commit: r.log.committed,
      applied: r.log.applied,
      lastIndex: r.log.lastIndex(),
      firstIndex: r.log.firstIndex(),
      lead: r.lead,
      role: r.role,
      leadTransferee: r.leadTransferee,
      confState: toConfState(r.tracker.config),
      isJoint: isJoint(r.tracker.config),
      leaseValid: leaseValid(r),
      progress,
    };
  }

  private assertNotInReady(what: string): void {
    assert(this.readyInProgress === undefined, `${what}() between ready() and advance()`);
  }
}
