/**
 * The data that flows in and out of the Raft core. Everything here is plain data: the core
 * never performs I/O, so entries to persist, messages to send and entries to apply all leave it
 * as values of these types (see `Ready`).
 *
 * Node ids are non-empty strings; `NONE` means "no node" (no vote, no known leader).
 */
export type NodeId = string;
export const NONE: NodeId = '';

export enum EntryType {
  /** Application data (an empty Normal entry is the no-op a new leader appends). */
  Normal = 0,
  /** A membership change: `data` is an encoded `ConfChange` (see confchange-codec.ts). */
  ConfChange = 1,
}

export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: EntryType;
  readonly data: Uint8Array;
}

/** What must be on disk before any message that depends on it is sent (Raft §5.1, Fig. 2). */
export interface HardState {
  readonly term: number;
  readonly vote: NodeId;
  readonly commit: number;
}

export enum Role {
  Follower = 'follower',
  PreCandidate = 'pre-candidate',
  Candidate = 'candidate',
  Leader = 'leader',
}

/** Volatile state worth telling the application about; never persisted. */
export interface SoftState {
  readonly lead: NodeId;
  readonly role: Role;
}

/**
 * The membership at some index. During joint consensus (Raft dissertation §4.3) both
 * `voters` (C_new) and `votersOutgoing` (C_old) must agree.
 */
export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly votersOutgoing: readonly NodeId[];
  readonly learners: readonly NodeId[];
  /** Voters of C_old that become learners when the joint configuration is left. */
  readonly learnersNext: readonly NodeId[];
  /** Leave the joint configuration automatically once it is committed. */
  readonly autoLeave: boolean;
}

export interface SnapshotMeta {
  readonly index: number;
  readonly term: number;
  readonly confState: ConfState;
}

export interface Snapshot {
  readonly meta: SnapshotMeta;
  /** The application's state machine image; opaque to the core. */
  readonly data: Uint8Array;
}

/** One piece of an InstallSnapshot transfer; a transfer resumes from the last acknowledged offset. */
export interface SnapshotChunk {
  readonly meta: SnapshotMeta;
  readonly offset: number;
  readonly data: Uint8Array;
  readonly totalBytes: number;
}

export enum MessageType {
  /** Local: start an election (the election timer fired, or the app asked). */
  Hup = 'hup',
  /** Local: the leader's heartbeat timer fired. */
  Beat = 'beat',
  /** A client proposal (local on the leader, or forwarded by a follower). */
  Prop = 'prop',
  App = 'app',
  AppResp = 'app-resp',
  Vote = 'vote',
  VoteResp = 'vote-resp',
  PreVote = 'pre-vote',
  PreVoteResp = 'pre-vote-resp',
  /** One InstallSnapshot chunk. */
  Snap = 'snap',
  /** Acknowledges snapshot bytes received so far (`snapshotOffset`). */
  SnapResp = 'snap-resp',
  Heartbeat = 'heartbeat',
  HeartbeatResp = 'heartbeat-resp',
  /** Local: the transport could not reach `from`. */
  Unreachable = 'unreachable',
  /** Local: the transport finished (or failed) sending a snapshot to `from`. */
  SnapStatus = 'snap-status',
  /** Local: the leader checks it still hears from a quorum (CheckQuorum). */
  CheckQuorum = 'check-quorum',
  TransferLeader = 'transfer-leader',
  /** Tells the transfer target to campaign now, bypassing its election timer and PreVote. */
  TimeoutNow = 'timeout-now',
  ReadIndex = 'read-index',
  ReadIndexResp = 'read-index-resp',
}

export interface Message {
  readonly type: MessageType;
  readonly to: NodeId;
  readonly from: NodeId;
  readonly term: number;
  /** App: term of the entry at `index`; Vote: term of the candidate's last entry. */
  readonly logTerm: number;
  readonly index: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
  readonly reject: boolean;
  /** AppResp reject: the follower's hint of where the logs may match (fast backtracking). */
  readonly rejectHint: number;
  /** ReadIndex request id; `transfer` on a Vote that comes from a leadership transfer. */
  readonly context: string;
  /** Heartbeat: the leader's tick count at send time, echoed back to start a lease. */
  readonly sentTick: number;
  readonly snapshotChunk?: SnapshotChunk;
  /** SnapResp: bytes of the snapshot received so far (where the next chunk starts). */
  readonly snapshotOffset: number;
}

export type MessageInit = Partial<Message> & Pick<Message, 'type'>;

/** Builds a message with every unset field at its zero value. */
export function message(init: MessageInit): Message {
  return {
    to: NONE,
    from: NONE,
    term: 0,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    context: '',
    sentTick: 0,
    snapshotOffset: 0,
    ...init,
  };
}

/** A read that may be served once the application has applied up to `index`. */
export interface ReadState {
  readonly index: number;
  readonly requestCtx: string;
}

export type ReadMode = 'read-index' | 'lease';

/**
 * One batch of work from the core. The application must, in this order:
 * 1. persist `hardState`, `entries` and `snapshot` (fsync when `mustSync`);
 * 2. send `messages` (only after step 1: a vote or an append ack must not outrun its record);
 * 3. apply `snapshot`, then `committedEntries`, and serve `readStates` once applied;
 * 4. call `advance()`.
 */
export interface Ready {
  readonly softState?: SoftState;
  readonly hardState?: HardState;
  readonly readStates: readonly ReadState[];
  readonly entries: readonly Entry[];
  readonly snapshot?: Snapshot;
  readonly committedEntries: readonly Entry[];
  readonly messages: readonly Message[];
  readonly mustSync: boolean;
}

export const EMPTY_HARD_STATE: HardState = { term: 0, vote: NONE, commit: 0 };

export const EMPTY_CONF_STATE: ConfState = {
  voters: [],
  votersOutgoing: [],
  learners: [],
  learnersNext: [],
  autoLeave: false,
};

/** Bytes an entry counts for in size limits (payload plus a fixed header estimate). */
export function entryBytes(entry: Entry): number {
  return entry.data.length + 24;
}

export function isLocalMessage(type: MessageType): boolean {
  return (
    type === MessageType.Hup ||
    type === MessageType.Beat ||
    type === MessageType.Unreachable ||
    type === MessageType.SnapStatus ||
    type === MessageType.CheckQuorum
  );
}

export function isResponseMessage(type: MessageType): boolean {
  return (
    type === MessageType.AppResp ||
    type === MessageType.VoteResp ||
    type === MessageType.HeartbeatResp ||
    type === MessageType.Unreachable ||
    type === MessageType.PreVoteResp ||
    type === MessageType.SnapResp
  );
}

/** A proposal that the core would not accept, returned as a value (errors at the edges). */
export type ProposalRefusal =
  | { readonly reason: 'no-leader' }
  | { readonly reason: 'not-leader'; readonly leaderHint: NodeId }
  | { readonly reason: 'transferring-leadership' }
  | { readonly reason: 'too-large' }
  | { readonly reason: 'conf-change-pending' }
  | { readonly reason: 'invalid-conf-change'; readonly detail: string }
  /**
   * The strict reconfiguration check: the change would leave a half of the voters with fewer
   * reachable members than its quorum (see reconfig-check.ts). Not retried: it needs the
   * operator (a learner first, or the unreachable voters back, or `force`).
   */
  | {
      readonly reason: 'reconfiguration-unsafe';
      readonly detail: string;
      readonly voters: number;
      readonly quorum: number;
      readonly reachable: number;
    };

export type ProposalResult =
  /** Appended to the leader's log at `index` in `term`; it commits there or is overwritten. */
  | { readonly status: 'appended'; readonly index: number; readonly term: number }
  /** Sent on to the leader; the outcome is seen only when (if) it is applied. */
  | { readonly status: 'forwarded'; readonly leaderHint: NodeId }
  | { readonly status: 'refused'; readonly refusal: ProposalRefusal };

export type ReadRequestResult =
  | { readonly status: 'queued' | 'forwarded' }
  | { readonly status: 'refused'; readonly reason: 'no-leader' | 'too-many-pending-reads' };
