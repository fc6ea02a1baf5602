import type { Raft } from './raft';
import { Message, MessageType, NONE, Role, Snapshot } from './types';

/** Rules of a follower (Raft §5.2, §5.3, §7): obey the leader of the current term. */
export function stepFollower(r: Raft, m: Message): void {
  switch (m.type) {
    case MessageType.Prop:
      // Local proposals are answered by RawNode.propose; a stray forwarded one is dropped.
      if (r.lead !== NONE && !r.cfg.disableProposalForwarding)
        r.send({ ...m, to: r.lead, term: 0 });
      return;
    case MessageType.App:
      r.electionElapsed = 0;
      r.lead = m.from;
      handleAppendEntries(r, m);
      return;
    case MessageType.Heartbeat:
      r.electionElapsed = 0;
      r.lead = m.from;
      handleHeartbeat(r, m);
      return;
    case MessageType.Snap:
      r.electionElapsed = 0;
      r.lead = m.from;
      handleSnapshotChunk(r, m);
      return;
    case MessageType.TransferLeader:
      if (r.lead !== NONE)
        r.send({ type: MessageType.TransferLeader, to: r.lead, context: m.context });
      return;
    case MessageType.TimeoutNow:
      // The leader chose us: campaign at once, skipping PreVote and the leases (§3.10).
      r.debug(`TimeoutNow from ${m.from}: campaigning`);
      r.campaign('transfer');
      return;
    case MessageType.ReadIndex:
      if (r.lead !== NONE) r.send({ ...m, to: r.lead, term: 0 });
      return;
    case MessageType.ReadIndexResp:
      r.readStates.push({ index: m.index, requestCtx: m.context });
      return;
  }
}

/** Rules of a (pre-)candidate: count votes; a leader of our term makes us follow it. */
export function stepCandidate(r: Raft, m: Message): void {
  const myResponse = r.role === Role.PreCandidate ? MessageType.PreVoteResp : MessageType.VoteResp;
  switch (m.type) {
    case MessageType.App:
      r.becomeFollower(m.term, m.from);
      handleAppendEntries(r, m);
      return;
    case MessageType.Heartbeat:
      r.becomeFollower(m.term, m.from);
      handleHeartbeat(r, m);
      return;
    case MessageType.Snap:
      r.becomeFollower(m.term, m.from);
      handleSnapshotChunk(r, m);
      return;
    case myResponse:
      r.tracker.recordVote(m.from, !m.reject);
      r.tallyAndAct();
      return;
  }
}

/** Raft §5.3 AppendEntries receiver, answering with a fast-backtracking hint on mismatch. */
export function handleAppendEntries(r: Raft, m: Message): void {
  if (m.index < r.log.committed) {
    // Everything up to our commit index is known to match: tell the leader where we are.
    r.send({ type: MessageType.AppResp, to: m.from, index: r.log.committed, sentTick: m.sentTick });
    return;
  }
  const lastNew = r.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
  if (lastNew !== undefined) {
    r.send({ type: MessageType.AppResp, to: m.from, index: lastNew, sentTick: m.sentTick });
    return;
  }
  const hintIndex = Math.min(m.index, r.log.lastIndex());
  const hint = r.log.findConflictByTerm(hintIndex, m.logTerm);
  r.send({
    type: MessageType.AppResp,
    to: m.from,
    index: m.index,
    reject: true,
    rejectHint: hint.index,
    logTerm: hint.term,
    // Echoed so the leader may count this follower toward its lease (see handleAppendResponse).
    sentTick: m.sentTick,
  });
}

function handleHeartbeat(r: Raft, m: Message): void {
  r.log.commitTo(Math.min(m.commit, r.log.lastIndex()));
  r.send({ type: MessageType.HeartbeatResp, to: m.from, context: m.context, sentTick: m.sentTick });
}

/** Largest snapshot a follower buffers, in bytes (a bound on what a peer can make us hold). */
export const SNAPSHOT_BYTES_MAX = 2 * 1024 * 1024 * 1024;

/**
 * InstallSnapshot receiver, chunked and resumable: chunks are accepted only in order, and
 * every answer names how many bytes we hold, so the leader resumes from there after a loss.
 */
export function handleSnapshotChunk(r: Raft, m: Message): void {
  const chunk = m.snapshotChunk;
  if (chunk === undefined) return;
  const { meta } = chunk;
  if (meta.index <= r.log.committed) {
    r.incomingSnapshot = undefined;
    r.send({ type: MessageType.AppResp, to: m.from, index: r.log.committed });
    return;
  }
  if (chunk.totalBytes < 0 || chunk.totalBytes > SNAPSHOT_BYTES_MAX) return;
  let incoming = r.incomingSnapshot;
  const sameSnapshot =
    incoming !== undefined &&
    incoming.meta.index === meta.index &&
    incoming.meta.term === meta.term &&
    incoming.totalBytes === chunk.totalBytes;
  if (!sameSnapshot) {
    incoming = { meta, chunks: [], received: 0, totalBytes: chunk.totalBytes };
    r.incomingSnapshot = incoming;
  }
  if (incoming === undefined) return;
  if (
    chunk.offset === incoming.received &&
    incoming.received + chunk.data.length <= incoming.totalBytes
  ) {
    if (chunk.data.length > 0) {
      incoming.chunks.push(chunk.data.slice());
      incoming.received += chunk.data.length;
    }
  }
  if (incoming.received < incoming.totalBytes) {
    r.send({
      type: MessageType.SnapResp,
      to: m.from,
      index: meta.index,
      snapshotOffset: incoming.received,
    });
    return;
  }
  const data = new Uint8Array(incoming.totalBytes);
  let at = 0;
  for (const piece of incoming.chunks) {
    data.set(piece, at);
    at += piece.length;
  }
  r.incomingSnapshot = undefined;
  const snapshot: Snapshot = { meta, data };
  if (r.restore(snapshot)) {
    r.send({ type: MessageType.AppResp, to: m.from, index: r.log.lastIndex() });
  } else {
    r.send({ type: MessageType.AppResp, to: m.from, index: r.log.committed });
  }
}
