import { assert } from '@parley/common';
import { RaftConfig, RaftConfigInit, resolveRaftConfig } from './config';
import {
  ConfChange,
  ChangeResult,
  encodeConfChange,
  enterJoint,
  isLeaveJoint,
  leaveJoint,
  needsJoint,
  restoreConfig,
  simpleChange,
} from './confchange';
import { stepCandidate, stepFollower } from './follower';
import { bcastAppend, maybeCommit, stepLeader, tickSnapshotTransfers } from './leader';
import { RaftLog } from './log';
import { Progress } from './progress';
import { ReadOnly } from './read-only';
import { describeUnsafeReconfiguration, unsafeReconfiguration } from './reconfig-check';
import { ProgressTracker, isJoint, toConfState } from './tracker';
import {
  ConfState,
  Entry,
  EntryType,
  HardState,
  Message,
  MessageInit,
  MessageType,
  NONE,
  NodeId,
  ProposalRefusal,
  ReadState,
  Role,
  SoftState,
  Snapshot,
  entryBytes,
  message,
} from './types';

/** Marks a Vote that a leadership transfer asked for: it may bypass the leader lease. */
export const CAMPAIGN_TRANSFER = 'transfer';

type CampaignKind = 'pre-election' | 'election' | 'transfer';

/**
 * The Raft state machine of one replica (Ongaro & Ousterhout 2014; Ongaro's dissertation).
 * Pure: time enters through `tick()`, messages through `step()`, and every effect leaves as
 * data in `msgs`, `readStates` and the log's unstable part, which `RawNode` packs into Ready.
 *
 * Role changes swap the step and tick functions, as in etcd's raft: the rules that differ by
 * role live in leader.ts and follower.ts.
 */
export class Raft {
  readonly id: NodeId;
  readonly cfg: RaftConfig;
  readonly log: RaftLog;
  readonly tracker = new ProgressTracker();
  readonly readOnly: ReadOnly;

  term = 0;
  vote: NodeId = NONE;
  lead: NodeId = NONE;
  role = Role.Follower;
  isLearner = false;

  msgs: Message[] = [];
  readStates: ReadState[] = [];

  /** The member a leadership transfer is handing over to, or NONE. */
  leadTransferee: NodeId = NONE;
  /** Index of the latest conf change the leader appended; no new one until it is applied. */
  pendingConfIndex = 0;
  /** Bytes of entries appended by this leader and not yet applied (bounds the log's growth). */
  uncommittedBytes = 0;
  /** ReadIndex requests held until this leader commits an entry of its term (§6.4 step 1). */
  pendingReadIndexMessages: Message[] = [];
  /**
   * Set once this leader sent TimeoutNow in its term: a forced election may now happen
   * without waiting out followers' leases, so lease reads must stop until the next term.
   */
  leaseRevoked = false;

  electionElapsed = 0;
  heartbeatElapsed = 0;
  randomizedElectionTimeout = 0;
  /** Ticks since this process started (or restarted): a lease guard after a restart. */
  ticksSinceStart = 0;
  /** Monotonic tick counter; heartbeats carry it so that echoes start a lease. */
  ticks = 0;

  /** Follower: an InstallSnapshot transfer being received, chunk by chunk. */
  incomingSnapshot:
    | { meta: Snapshot['meta']; chunks: Uint8Array[]; received: number; totalBytes: number }
    | undefined;

  private tickFn: () => void = () => this.tickElection();
  private stepFn: (r: Raft, m: Message) => void = stepFollower;

  constructor(init: RaftConfigInit) {
    this.cfg = resolveRaftConfig(init);
    this.id = this.cfg.id;
    this.log = new RaftLog(this.cfg.storage, this.cfg.maxCommittedSizePerReadyBytes);
    this.readOnly = new ReadOnly(this.cfg.maxPendingReads);
    const { hardState, confState } = this.cfg.storage.initialState();
    const restored = restoreConfig(confState, (id, learner) => this.newProgress(id, learner));
    assert(restored.ok, `stored conf state is invalid: ${restored.ok ? '' : restored.error}`);
    this.installConfig(restored);
    if (hardState.term !== 0 || hardState.vote !== NONE || hardState.commit !== 0)
      this.loadState(hardState);
    if (this.cfg.applied !== undefined && this.cfg.applied > 0)
      this.log.appliedTo(this.cfg.applied);
    this.becomeFollower(this.term, NONE);
  }

  private loadState(state: HardState): void {
    assert(
      state.commit >= this.log.committed && state.commit <= this.log.lastIndex(),
      `hard state commit ${state.commit} outside [${this.log.committed}, ${this.log.lastIndex()}]`,
    );
    this.log.committed = state.commit;
    this.term = state.term;
    this.vote = state.vote;
  }

  newProgress(id: NodeId, isLearner: boolean): Progress {
    const pr = new Progress(
      this.log.lastIndex() + 1,
      this.cfg.maxInflightMsgs,
      this.cfg.maxInflightBytes,
      isLearner,
    );
    if (id === this.id) pr.match = this.log.lastIndex();
    return pr;
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  softState(): SoftState {
    return { lead: this.lead, role: this.role };
  }

  /** Whether this node may become leader: a voter with no snapshot left to apply. */
  promotable(): boolean {
    const pr = this.tracker.progress.get(this.id);
    return pr !== undefined && !pr.isLearner && !this.log.hasPendingSnapshot();
  }

  /** Whether the leader has committed an entry of its own term (needed before serving reads). */
  committedEntryInCurrentTerm(): boolean {
    return this.log.term(this.log.committed) === this.term;
  }

  // ---- sending -------------------------------------------------------------------------

  send(init: MessageInit): void {
    const type = init.type;
    assert(init.to !== this.id, `${type} addressed to the sender ${this.id}`);
    let term = init.term ?? 0;
    if (
      type === MessageType.Vote ||
      type === MessageType.VoteResp ||
      type === MessageType.PreVote ||
      type === MessageType.PreVoteResp
    ) {
      // Campaign messages carry the term being campaigned for, set by the caller.
      assert(term !== 0, `${type} sent without a term`);
    } else if (type !== MessageType.Prop && type !== MessageType.ReadIndex) {
      // Forwarded proposals and read requests travel without a term, like local messages.
      assert(init.term === undefined, `${type} sent with an explicit term`);
      term = this.term;
    }
    this.msgs.push(message({ ...init, from: this.id, term }));
  }

  // ---- role changes --------------------------------------------------------------------

  private reset(term: number): void {
    // Terms only grow (§5.1): a term once seen is never given back, or a vote could repeat.
    assert(term >= this.term, `term would go back from ${this.term} to ${term}`);
    if (this.term !== term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.abortLeaderTransfer();
    this.tracker.resetVotes();
    const fresh = new Map<NodeId, Progress>();
    for (const [id, pr] of this.tracker.progress) fresh.set(id, this.newProgress(id, pr.isLearner));
    this.tracker.progress = fresh;
    this.pendingConfIndex = 0;
    this.uncommittedBytes = 0;
    this.readOnly.reset();
    this.pendingReadIndexMessages = [];
    this.leaseRevoked = false;
  }

  becomeFollower(term: number, lead: NodeId): void {
    this.stepFn = stepFollower;
    this.reset(term);
    this.tickFn = () => this.tickElection();
    this.lead = lead;
    this.role = Role.Follower;
    this.debug(`became follower at term ${term}, leader ${lead || 'unknown'}`);
  }

  becomePreCandidate(): void {
    assert(this.role !== Role.Leader, 'leader cannot become pre-candidate');
    // A pre-candidate keeps its term and vote: a pre-election changes nothing durable.
    this.stepFn = stepCandidate;
    this.tracker.resetVotes();
    this.tickFn = () => this.tickElection();
    this.lead = NONE;
    this.role = Role.PreCandidate;
    this.debug(`became pre-candidate at term ${this.term}`);
  }

  becomeCandidate(): void {
    assert(this.role !== Role.Leader, 'leader cannot become candidate');
    this.stepFn = stepCandidate;
    this.reset(this.term + 1);
    this.tickFn = () => this.tickElection();
    this.vote = this.id;
    this.role = Role.Candidate;
    this.debug(`became candidate at term ${this.term}`);
  }

  becomeLeader(): void {
    assert(this.role !== Role.Follower, 'follower cannot become leader without an election');
    assert(this.vote === this.id, `leader of term ${this.term} did not vote for itself`);
    this.stepFn = stepLeader;
    this.reset(this.term);
    this.tickFn = () => this.tickHeartbeat();
    this.lead = this.id;
    this.role = Role.Leader;
    this.tracker.progress.get(this.id)?.becomeReplicate();
    // Conservatively assume an unapplied conf change may sit in the log (§4.1 safety rule).
    this.pendingConfIndex = this.log.lastIndex();
    // A no-op of the new term lets the leader commit (and so read) without waiting for a client.
    const appended = this.appendEntries([
      { term: 0, index: 0, type: EntryType.Normal, data: new Uint8Array(0) },
    ]);
    assert(appended, 'the empty entry of a new leader must fit');
    this.debug(`became leader at term ${this.term}`);
  }

  // ---- time ----------------------------------------------------------------------------

  tick(): void {
    this.ticks += 1;
    this.ticksSinceStart += 1;
    this.tickFn();
  }

  private tickElection(): void {
    this.electionElapsed += 1;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.step(message({ type: MessageType.Hup, from: this.id }));
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed += 1;
    this.electionElapsed += 1;
    if (this.electionElapsed >= this.cfg.electionTick) {
      this.electionElapsed = 0;
      if (this.cfg.checkQuorum)
        this.step(message({ type: MessageType.CheckQuorum, from: this.id }));
      // A transfer that did not finish within an election timeout is abandoned (§3.10).
      if (this.role === Role.Leader && this.leadTransferee !== NONE) this.abortLeaderTransfer();
    }
    if (this.role !== Role.Leader) return;
    tickSnapshotTransfers(this);
    if (this.heartbeatElapsed >= this.cfg.heartbeatTick) {
      this.heartbeatElapsed = 0;
      this.step(message({ type: MessageType.Beat, from: this.id }));
    }
  }

  private resetRandomizedElectionTimeout(): void {
    // Randomized in [electionTick, 2*electionTick) to split votes rarely (§5.2).
    this.randomizedElectionTimeout =
      this.cfg.electionTick + this.cfg.random.nextInt(this.cfg.electionTick);
  }

  /**
   * With CheckQuorum, a follower that heard from a leader within an election timeout (or that
   * restarted less than an election timeout ago) ignores campaigns: this is what makes the
   * leader's lease and a rejoining node's harmlessness hold.
   */
  inLease(): boolean {
    if (!this.cfg.checkQuorum) return false;
    const heardFromLeader = this.lead !== NONE && this.electionElapsed < this.cfg.electionTick;
    const justStarted = this.ticksSinceStart < this.cfg.electionTick;
    return heardFromLeader || justStarted;
  }

  // ---- elections -----------------------------------------------------------------------

  /** Whether committed but unapplied entries include a conf change (don't campaign then). */
  private hasUnappliedConfChanges(): boolean {
    if (this.log.committed <= this.log.applied) return false;
    const ents = this.log.slice(
      Math.max(this.log.applied + 1, this.log.firstIndex()),
      this.log.committed + 1,
      Number.MAX_SAFE_INTEGER,
    );
    if (ents === 'compacted') return false;
    return ents.some((e) => e.type === EntryType.ConfChange);
  }

  campaign(kind: CampaignKind): void {
    if (!this.promotable()) return;
    if (kind !== 'transfer' && this.hasUnappliedConfChanges()) {
      this.debug('not campaigning: a committed conf change is not applied yet');
      return;
    }
    let voteType: MessageType;
    let term: number;
    if (kind === 'pre-election') {
      this.becomePreCandidate();
      voteType = MessageType.PreVote;
      term = this.term + 1; // the pre-vote asks for the next term without taking it
    } else {
      this.becomeCandidate();
      voteType = MessageType.Vote;
      term = this.term;
    }
    this.tracker.recordVote(this.id, true);
    if (this.tallyAndAct()) return;
    for (const id of this.tracker.voterIds()) {
      if (id === this.id) continue;
      this.send({
        type: voteType,
        to: id,
        term,
        index: this.log.lastIndex(),
        logTerm: this.log.lastTerm(),
        context: kind === 'transfer' ? CAMPAIGN_TRANSFER : '',
      });
    }
  }

  /** Counts votes and acts on a result; returns true if the election is over. */
  tallyAndAct(): boolean {
    const { result } = this.tracker.tallyVotes();
    if (result === 'won') {
      if (this.role === Role.PreCandidate) {
        this.campaign('election');
      } else {
        this.becomeLeader();
        bcastAppend(this);
      }
      return true;
    }
    if (result === 'lost') {
      this.becomeFollower(this.term, NONE);
      return true;
    }
    return false;
  }

  // ---- step ----------------------------------------------------------------------------

  step(m: Message): void {
    if (m.term > this.term) {
      if (m.type === MessageType.Vote || m.type === MessageType.PreVote) {
        const force = m.context === CAMPAIGN_TRANSFER;
        if (!force && this.inLease()) {
          this.debug(`ignored ${m.type} from ${m.from} at term ${m.term}: within lease`);
          return;
        }
      }
      if (m.type === MessageType.PreVote) {
        // A pre-vote never changes our term.
      } else if (m.type === MessageType.PreVoteResp && !m.reject) {
        // A granted pre-vote carries the future term; the pre-candidate counts it.
      } else if (
        m.type === MessageType.App ||
        m.type === MessageType.Heartbeat ||
        m.type === MessageType.Snap
      ) {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, NONE);
      }
    } else if (m.term < this.term && m.term !== 0) {
      if (
        (this.cfg.checkQuorum || this.cfg.preVote) &&
        (m.type === MessageType.Heartbeat || m.type === MessageType.App)
      ) {
        // A stale leader (e.g. back from a partition) learns our term from this answer and
        // steps down; without it, a node ignored by PreVote could stall forever.
        this.send({ type: MessageType.AppResp, to: m.from });
      } else if (m.type === MessageType.PreVote) {
        this.send({ type: MessageType.PreVoteResp, to: m.from, term: this.term, reject: true });
      }
      return;
    }

    switch (m.type) {
      case MessageType.Hup:
        if (this.role !== Role.Leader)
          this.campaign(this.cfg.preVote ? 'pre-election' : 'election');
        return;
      case MessageType.Vote:
      case MessageType.PreVote:
        this.handleVoteRequest(m);
        return;
      default:
        this.stepFn(this, m);
    }
  }

  private handleVoteRequest(m: Message): void {
    const respType = m.type === MessageType.Vote ? MessageType.VoteResp : MessageType.PreVoteResp;
    const canVote =
      this.vote === m.from ||
      (this.vote === NONE && this.lead === NONE) ||
      (m.type === MessageType.PreVote && m.term > this.term);
    if (canVote && this.log.isUpToDate(m.index, m.logTerm)) {
      // Answer with the request's term so that a pre-candidate counts the grant.
      this.send({ type: respType, to: m.from, term: m.term });
      if (m.type === MessageType.Vote) {
        // Election Safety (§5.2): at most one vote per term.
        assert(
          this.vote === NONE || this.vote === m.from,
          `second vote in term ${this.term}: ${m.from} after ${this.vote}`,
        );
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send({ type: respType, to: m.from, term: this.term, reject: true });
    }
  }

  // ---- proposals -----------------------------------------------------------------------

  /** Appends entries as leader, stamping term and index. False when over the uncommitted bound. */
  appendEntries(entries: Entry[]): boolean {
    const last = this.log.lastIndex();
    const stamped = entries.map((e, i) => ({ ...e, term: this.term, index: last + 1 + i }));
    const bytes = stamped.reduce((sum, e) => sum + (e.data.length > 0 ? entryBytes(e) : 0), 0);
    const max = this.cfg.maxUncommittedEntriesBytes;
    // An over-large proposal is still accepted when nothing is uncommitted, so it cannot starve.
    if (max > 0 && this.uncommittedBytes > 0 && this.uncommittedBytes + bytes > max) return false;
    this.uncommittedBytes += bytes;
    const lastIndex = this.log.append(stamped);
    this.tracker.progress.get(this.id)?.maybeUpdate(lastIndex);
    // A single-voter cluster commits on its own append.
    maybeCommit(this);
    return true;
  }

  reduceUncommittedBytes(applied: readonly Entry[]): void {
    if (this.uncommittedBytes === 0) return;
    const bytes = applied.reduce((sum, e) => sum + (e.data.length > 0 ? entryBytes(e) : 0), 0);
    this.uncommittedBytes = Math.max(0, this.uncommittedBytes - bytes);
  }

  // ---- membership ----------------------------------------------------------------------

  /**
   * Checks a conf change against the current membership without applying it: its validity and,
   * unless `force` or the check is off, the strict reconfiguration check. Leaving a joint
   * configuration is never refused by the latter (it only drops the outgoing half's needs).
   */
  checkConfChange(cc: ConfChange, force = false): ProposalRefusal | undefined {
    const result = this.changeConfig(cc);
    if (!result.ok) return { reason: 'invalid-conf-change', detail: result.error };
    if (force || !this.cfg.strictReconfigCheck || isLeaveJoint(cc)) return undefined;
    const unsafe = unsafeReconfiguration(this.tracker.config.voters, result.config.voters, (id) =>
      this.isReachable(id),
    );
    if (!unsafe) return undefined;
    const { voters, quorum, reachable } = unsafe;
    const detail = describeUnsafeReconfiguration(unsafe);
    return { reason: 'reconfiguration-unsafe', detail, voters, quorum, reachable };
  }

  /**
   * Leader: whether member `id` answered within the last election timeout (itself always).
   * A node with no progress yet (a voter being added) has never answered.
   */
  isReachable(id: NodeId): boolean {
    if (id === this.id) return true;
    const pr = this.tracker.progress.get(id);
    return (
      pr !== undefined && pr.activeTick >= 0 && this.ticks - pr.activeTick <= this.cfg.electionTick
    );
  }

  private changeConfig(cc: ConfChange): ChangeResult {
    const factory = (id: NodeId, learner: boolean) => this.newProgress(id, learner);
    const config = this.tracker.config;
    if (isLeaveJoint(cc)) return leaveJoint(config, this.tracker.progress);
    if (isJoint(config))
      return { ok: false, error: 'a joint configuration must be left before another change' };
    if (needsJoint(cc, config)) {
      return enterJoint(
        config,
        this.tracker.progress,
        cc.transition !== 'joint-explicit',
        cc.changes,
        factory,
      );
    }
    return simpleChange(config, this.tracker.progress, cc.changes, factory);
  }

  /**
   * Applies a committed conf change (every replica, in log order). A change that is invalid
   * is refused the same way on every replica, so membership stays identical everywhere.
   */
  applyConfChange(
    cc: ConfChange,
  ): { ok: true; confState: ConfState } | { ok: false; error: string } {
    const result = this.changeConfig(cc);
    if (!result.ok) {
      this.debug(`refused committed conf change: ${result.error}`);
      return { ok: false, error: result.error };
    }
    this.installConfig(result);
    if (this.role === Role.Leader) this.afterLeaderConfChange();
    return { ok: true, confState: toConfState(this.tracker.config) };
  }

  private installConfig(result: Extract<ChangeResult, { ok: true }>): void {
    this.tracker.config = result.config;
    this.tracker.progress = result.progress;
    const self = result.progress.get(this.id);
    this.isLearner = self?.isLearner ?? false;
  }

  private afterLeaderConfChange(): void {
    if (!this.tracker.isVoter(this.id)) {
      // The leader left the voters: it steps down and the others elect among themselves.
      this.becomeFollower(this.term, NONE);
      return;
    }
    if (this.leadTransferee !== NONE && !this.tracker.isVoter(this.leadTransferee))
      this.abortLeaderTransfer();
    if (!maybeCommit(this)) bcastAppend(this);
    const config = this.tracker.config;
    if (isJoint(config) && config.autoLeave) {
      // Joint consensus is transient: leave as soon as C_old,new is applied.
      const data = encodeConfChange({ transition: 'auto', changes: [] });
      if (this.appendEntries([{ term: 0, index: 0, type: EntryType.ConfChange, data }])) {
        this.pendingConfIndex = this.log.lastIndex();
        bcastAppend(this);
      }
    }
  }

  confState(): ConfState {
    return toConfState(this.tracker.config);
  }

  // ---- leadership transfer -------------------------------------------------------------

  abortLeaderTransfer(): void {
    this.leadTransferee = NONE;
  }

  sendTimeoutNow(to: NodeId): void {
    this.leaseRevoked = true;
    this.send({ type: MessageType.TimeoutNow, to });
  }

  // ---- snapshots -----------------------------------------------------------------------

  /**
   * Installs a snapshot from the leader (Raft §7). Returns false when it brings nothing new:
   * if our log already holds the snapshot's last entry, only the commit index moves.
   */
  restore(snapshot: Snapshot): boolean {
    const { index, term } = snapshot.meta;
    if (index <= this.log.committed) return false;
    if (this.role !== Role.Follower) {
      this.becomeFollower(this.term + 1, NONE);
      return false;
    }
    if (this.log.matchTerm(index, term)) {
      this.log.commitTo(index);
      return false;
    }
    const restored = restoreConfig(snapshot.meta.confState, (id, learner) =>
      this.newProgress(id, learner),
    );
    if (!restored.ok) {
      this.debug(`refused snapshot at ${index}: ${restored.error}`);
      return false;
    }
    this.log.restore(snapshot);
    this.installConfig(restored);
    this.debug(`restored snapshot at index ${index} term ${term}`);
    return true;
  }

  /** Replicates new entries to every follower that is not paused. */
  bcastAppend(): void {
    bcastAppend(this);
  }

  storage(): RaftConfig['storage'] {
    return this.cfg.storage;
  }

  debug(line: string): void {
    this.cfg.logger?.(`[${this.id} t${this.term} ${this.role}] ${line}`);
  }
}
