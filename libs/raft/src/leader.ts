import { assert } from '@parley/common';
import { decodeConfChange } from './confchange';
import { ProgressState, Progress } from './progress';
import { VoteResult, jointVoteResult } from './quorum';
import type { Raft } from './raft';
import { Entry, EntryType, Message, MessageType, NONE, NodeId, Role, entryBytes } from './types';

/** The leader's rules: replication, commitment, heartbeats, reads, transfer (Raft §5, §6). */
export function stepLeader(r: Raft, m: Message): void {
  switch (m.type) {
    case MessageType.Beat:
      bcastHeartbeat(r, 'periodic');
      return;
    case MessageType.CheckQuorum:
      checkQuorum(r);
      return;
    case MessageType.Prop:
      handleForwardedProposal(r, m);
      return;
    case MessageType.ReadIndex:
      handleReadIndex(r, m);
      return;
    case MessageType.TransferLeader:
      // The target travels in `context`, so a follower can forward the request unchanged.
      handleTransferLeader(r, m.context);
      return;
    case MessageType.App:
    case MessageType.Heartbeat:
    case MessageType.Snap:
      // Two leaders in one term would break election safety (§5.2): a bug, not bad input.
      assert(
        m.term !== r.term,
        `leader ${r.id} got ${m.type} from ${m.from} in its own term ${r.term}`,
      );
      return;
  }

  const pr = r.tracker.progress.get(m.from);
  if (pr === undefined) return; // a response from a node that is no longer a member
  switch (m.type) {
    case MessageType.AppResp:
      handleAppendResponse(r, m, pr);
      return;
    case MessageType.HeartbeatResp:
      handleHeartbeatResponse(r, m, pr);
      return;
    case MessageType.SnapResp:
      handleSnapshotResponse(r, m, pr);
      return;
    case MessageType.SnapStatus:
      if (pr.state !== ProgressState.Snapshot) return;
      // Whether the transport delivered the snapshot or not, probe next: the follower's
      // answer tells where it stands. A failed transfer resumes from the acknowledged offset.
      if (m.reject) pr.snapshotIdleTicks = Number.MAX_SAFE_INTEGER;
      return;
    case MessageType.Unreachable:
      // A lost append in replicate state: fall back to probing so that nothing is skipped.
      if (pr.state === ProgressState.Replicate) pr.becomeProbe();
      return;
  }
}

function checkQuorum(r: Raft): void {
  const self = r.tracker.progress.get(r.id);
  if (self) self.recentActive = true;
  if (!r.tracker.quorumActive(r.id)) {
    r.debug('stepping down: no quorum heard from within an election timeout');
    r.becomeFollower(r.term, NONE);
  }
  for (const [id, pr] of r.tracker.progress) pr.recentActive = id === r.id;
}

function handleForwardedProposal(r: Raft, m: Message): void {
  if (r.leadTransferee !== NONE || !r.tracker.progress.has(r.id)) return;
  const entries: Entry[] = [];
  for (const entry of m.entries) {
    if (entry.type === EntryType.ConfChange) {
      // Forwarded conf changes get the same checks as local ones; a bad one becomes a no-op.
      const cc = decodeConfChange(entry.data);
      const refused =
        'error' in cc || r.pendingConfIndex > r.log.applied || r.checkConfChange(cc) !== undefined;
      if (refused) {
        entries.push({ ...entry, type: EntryType.Normal, data: new Uint8Array(0) });
        continue;
      }
      r.pendingConfIndex = r.log.lastIndex() + entries.length + 1;
    }
    entries.push(entry);
  }
  if (entries.length > 0 && r.appendEntries(entries)) bcastAppend(r);
}

/** Raft §5.3 and §5.4.2: advance commit to what a quorum holds, if it is of this term. */
export function maybeCommit(r: Raft): boolean {
  if (r.role !== Role.Leader) return false;
  const wasCommittedInTerm = r.committedEntryInCurrentTerm();
  const committed = r.log.maybeCommit(r.tracker.committed(), r.term);
  if (committed && !wasCommittedInTerm && r.committedEntryInCurrentTerm()) releasePendingReads(r);
  return committed;
}

function releasePendingReads(r: Raft): void {
  const waiting = r.pendingReadIndexMessages;
  r.pendingReadIndexMessages = [];
  for (const m of waiting) handleReadIndex(r, m);
}

// ---- replication ---------------------------------------------------------------------------

/** Sends appends to every follower that is not paused (after new entries or a commit). */
export function bcastAppend(r: Raft): void {
  for (const id of r.tracker.ids()) {
    if (id !== r.id) sendAppend(r, id);
  }
}

export function sendAppend(r: Raft, to: NodeId): void {
  maybeSendAppend(r, to, true);
}

/**
 * Sends the entries `to` is missing, up to the message size bound. Returns whether a message
 * was sent. With `sendIfEmpty` false, nothing is sent when there are no entries (used to keep
 * a pipeline full without heartbeat-like empty appends).
 */
export function maybeSendAppend(r: Raft, to: NodeId, sendIfEmpty: boolean): boolean {
  const pr = r.tracker.progress.get(to);
  if (pr === undefined || pr.isPaused()) return false;
  const prevIndex = pr.next - 1;
  const prevTerm = r.log.term(prevIndex);
  const entries = r.log.entriesFrom(pr.next, r.cfg.maxSizePerMsgBytes);
  if (prevTerm === undefined || entries === 'compacted') return startSnapshot(r, to, pr);
  if (entries.length === 0 && !sendIfEmpty) return false;
  r.send({
    type: MessageType.App,
    to,
    index: prevIndex,
    logTerm: prevTerm,
    entries,
    commit: r.log.committed,
    sentTick: r.ticks,
  });
  pr.appendSentSinceBeat = true;
  const bytes = entries.reduce((sum, e) => sum + entryBytes(e), 0);
  pr.sentEntries(prevIndex + entries.length, entries.length, bytes);
  return true;
}

function handleAppendResponse(r: Raft, m: Message, pr: Progress): void {
  pr.markActive(r.ticks);
  // Accepted or not, the follower took the append as from its leader and restarted its
  // election timer then: as good a lease acknowledgement as a heartbeat's.
  if (m.sentTick > pr.ackedSentTick) pr.ackedSentTick = m.sentTick;
  pr.appendAnsweredSinceBeat = true;
  if (m.reject) {
    // Fast backtracking: the follower named the last index whose term may match ours.
    let nextProbe = m.rejectHint;
    if (m.logTerm > 0) nextProbe = r.log.findConflictByTerm(m.rejectHint, m.logTerm).index;
    if (pr.maybeDecrTo(m.index, nextProbe)) {
      if (pr.state === ProgressState.Replicate) pr.becomeProbe();
      sendAppend(r, m.from);
    }
    return;
  }
  const wasPaused = pr.isPaused();
  if (!pr.maybeUpdate(m.index) && !(pr.state === ProgressState.Probe && pr.match === m.index)) {
    if (pr.state === ProgressState.Probe) pr.probeSent = false;
    return;
  }
  switch (pr.state) {
    case ProgressState.Probe:
      pr.becomeReplicate();
      break;
    case ProgressState.Snapshot:
      if (pr.match >= pr.pendingSnapshot) {
        pr.becomeProbe();
        pr.becomeReplicate();
      }
      break;
    case ProgressState.Replicate:
      pr.inflights.freeLE(m.index);
      break;
  }
  if (maybeCommit(r)) {
    bcastAppend(r);
  } else if (wasPaused) {
    sendAppend(r, m.from);
  }
  // Pipelining: keep sending while there is more and the window is open.
  for (let sent = 0; sent < r.cfg.maxInflightMsgs && maybeSendAppend(r, m.from, false); sent += 1) {
    // loop body intentionally empty: maybeSendAppend does the work
  }
  if (m.from === r.leadTransferee && pr.match === r.log.lastIndex()) {
    r.debug(`transfer target ${m.from} caught up; sending TimeoutNow`);
    r.sendTimeoutNow(m.from);
  }
}

// ---- heartbeats and reads --------------------------------------------------------------------

/**
 * Heartbeats to every follower. A `periodic` round (the heartbeat tick) skips a follower that
 * was sent an append and answered one since the last round: the append restarted its election
 * timer and the answers echo the tick for the lease, so under load the heartbeats (a third of
 * the peer messages) are spared. A follower that went quiet still gets one (its answer resumes
 * a stalled pipeline), and a round that carries a read's context goes to everyone.
 */
export function bcastHeartbeat(r: Raft, round: 'periodic' | 'read'): void {
  const context = r.readOnly.lastPendingContext() ?? '';
  for (const id of r.tracker.ids()) {
    if (id === r.id) continue;
    const pr = r.tracker.progress.get(id)!;
    const spared =
      round === 'periodic' &&
      context === '' &&
      pr.appendSentSinceBeat &&
      pr.appendAnsweredSinceBeat;
    if (round === 'periodic') {
      pr.appendSentSinceBeat = false;
      pr.appendAnsweredSinceBeat = false;
    }
    if (spared) continue;
    // Only commit what the follower is known to hold: its log may still diverge beyond match.
    r.send({
      type: MessageType.Heartbeat,
      to: id,
      commit: Math.min(pr.match, r.log.committed),
      context,
      sentTick: r.ticks,
    });
  }
}

function handleHeartbeatResponse(r: Raft, m: Message, pr: Progress): void {
  pr.markActive(r.ticks);
  pr.probeSent = false;
  if (m.sentTick > pr.ackedSentTick) pr.ackedSentTick = m.sentTick;
  // A full window may hold appends that were lost: free one slot so replication resumes.
  if (pr.state === ProgressState.Replicate && pr.inflights.full()) pr.inflights.freeFirst();
  if (pr.match < r.log.lastIndex() || pr.state === ProgressState.Probe) sendAppend(r, m.from);
  if (m.context === '') return;
  const acks = r.readOnly.recvAck(m.from, m.context);
  if (acks === undefined) return;
  const votes = new Map<NodeId, boolean>();
  votes.set(r.id, true);
  for (const id of acks) votes.set(id, true);
  if (jointVoteResult(r.tracker.config.voters, votes) !== VoteResult.Won) return;
  for (const status of r.readOnly.advance(m.context))
    respondToRead(r, status.request, status.index);
}

/**
 * ReadIndex (dissertation §6.4): record the commit index, confirm leadership with a round of
 * heartbeats, and answer once a quorum acknowledged. With a valid lease, answer at once.
 */
export function handleReadIndex(r: Raft, m: Message): void {
  if (r.tracker.isSingleton()) {
    if (r.committedEntryInCurrentTerm()) respondToRead(r, m, r.log.committed);
    else queuePendingRead(r, m);
    return;
  }
  if (!r.committedEntryInCurrentTerm()) {
    queuePendingRead(r, m);
    return;
  }
  if (m.index === LEASE_READ && leaseValid(r)) {
    respondToRead(r, m, r.log.committed);
    return;
  }
  if (!r.readOnly.addRequest(r.log.committed, m)) return; // at the bound: dropped
  r.readOnly.recvAck(r.id, m.context);
  bcastHeartbeat(r, 'read');
}

/** Marks a ReadIndex request that may be answered under the leader lease (`index` field). */
export const LEASE_READ = 1;

function queuePendingRead(r: Raft, m: Message): void {
  if (r.pendingReadIndexMessages.length < r.cfg.maxPendingReads) r.pendingReadIndexMessages.push(m);
}

function respondToRead(r: Raft, request: Message, index: number): void {
  if (request.from === NONE || request.from === r.id) {
    r.readStates.push({ index, requestCtx: request.context });
  } else {
    r.send({ type: MessageType.ReadIndexResp, to: request.from, index, context: request.context });
  }
}

/**
 * The lease (dissertation §6.4.1): followers that echoed a heartbeat sent at tick T will not
 * vote for anyone else until electionTick of their own ticks have passed since they got it.
 * Ticks are coarse: a follower's first tick may come right after the heartbeat, so only
 * electionTick − 1 of its tick periods are guaranteed, and `leaseDriftTicks` covers the
 * difference in tick rates. The lease therefore ends at T + electionTick − drift − 1 of ours.
 */
export function leaseValid(r: Raft): boolean {
  if (r.role !== Role.Leader || !r.cfg.checkQuorum || r.leaseRevoked || r.leadTransferee !== NONE)
    return false;
  const leaseStart = leaseStartTick(r);
  return leaseStart >= 0 && r.ticks < leaseStart + r.cfg.electionTick - r.cfg.leaseDriftTicks - 1;
}

/**
 * The tick T at which the leader sent the heartbeat or append that a quorum last echoed (its
 * own "echo" is now), or -1 when it does not lead.
 */
export function leaseStartTick(r: Raft): number {
  if (r.role !== Role.Leader) return -1;
  const self = r.tracker.progress.get(r.id);
  if (self === undefined) return -1;
  self.ackedSentTick = r.ticks;
  return r.tracker.quorumAckedSentTick();
}

// ---- snapshots -------------------------------------------------------------------------------

function startSnapshot(r: Raft, to: NodeId, pr: Progress): boolean {
  // Never stream a snapshot to a follower we have not heard from lately.
  if (!pr.recentActive) return false;
  const snapshot = r.log.snapshot();
  if (snapshot.meta.index === 0) return false;
  pr.becomeSnapshot(snapshot.meta.index);
  sendSnapshotChunk(r, to, pr);
  return true;
}

/** Sends the chunk at the follower's acknowledged offset: transfers resume, never restart. */
function sendSnapshotChunk(r: Raft, to: NodeId, pr: Progress): void {
  const snapshot = r.log.snapshot();
  if (snapshot.meta.index !== pr.pendingSnapshot) pr.becomeSnapshot(snapshot.meta.index);
  const data = snapshot.data;
  const offset = Math.min(pr.snapshotOffset, data.length);
  const chunk = data.subarray(offset, Math.min(data.length, offset + r.cfg.snapshotChunkBytes));
  r.send({
    type: MessageType.Snap,
    to,
    snapshotChunk: { meta: snapshot.meta, offset, data: chunk, totalBytes: data.length },
  });
  pr.snapshotIdleTicks = 0;
}

function handleSnapshotResponse(r: Raft, m: Message, pr: Progress): void {
  pr.markActive(r.ticks);
  if (pr.state !== ProgressState.Snapshot || m.index !== pr.pendingSnapshot) return;
  pr.snapshotOffset = m.snapshotOffset;
  sendSnapshotChunk(r, m.from, pr);
}

/** Resends the current chunk of a transfer that went quiet (a chunk or its ack was lost). */
export function tickSnapshotTransfers(r: Raft): void {
  const idleTicksMax = Math.max(2, Math.floor(r.cfg.electionTick / 2));
  for (const id of r.tracker.ids()) {
    const pr = r.tracker.progress.get(id)!;
    if (id === r.id || pr.state !== ProgressState.Snapshot) continue;
    pr.snapshotIdleTicks += 1;
    if (pr.snapshotIdleTicks >= idleTicksMax && pr.recentActive) sendSnapshotChunk(r, id, pr);
  }
}

// ---- leadership transfer ---------------------------------------------------------------------

function handleTransferLeader(r: Raft, target: NodeId): void {
  const pr = r.tracker.progress.get(target);
  if (pr === undefined || pr.isLearner || target === r.id) return;
  if (r.leadTransferee === target) return;
  r.abortLeaderTransfer();
  // The transfer must finish within an election timeout, or it is abandoned (tickHeartbeat).
  r.electionElapsed = 0;
  r.leadTransferee = target;
  r.debug(`transferring leadership to ${target}`);
  if (pr.match === r.log.lastIndex()) r.sendTimeoutNow(target);
  else sendAppend(r, target);
}
