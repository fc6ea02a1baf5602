import type { DecisionEvent } from '@parley/decision';

/**
 * The message patterns of the command-log microservice (Nest TCP transport by default, NATS
 * request/reply when configured). decision-api is the client; these shapes are its contract, kept
 * in a lib so that neither app imports the other's source (test/static/import-graph.spec.ts).
 */
export const RPC = {
  propose: 'command-log.propose',
  /** Many proposals in one request: one signature, one dispatch, one Ready on the leader. */
  proposeBatch: 'command-log.propose-batch',
  read: 'command-log.read',
  /** Many reads in one request; the leader takes one read point for all of them. */
  readBatch: 'command-log.read-batch',
  status: 'command-log.status',
  transferLeadership: 'command-log.transfer-leadership',
  addMember: 'command-log.members.add',
  removeMember: 'command-log.members.remove',
  snapshot: 'command-log.snapshot',
  /** Decision events after an index, from this replica's ring (the watch reads it). */
  watch: 'command-log.watch',
} as const;

export type Consistency = 'linearizable' | 'lease' | 'stale';

export interface ProposeRequest {
  /** A decision command as the REST layer validated it (without `ts`; the leader stamps it). */
  command: Record<string, unknown>;
  /** How long to wait for the commit before answering `timeout` (outcome unknown). */
  timeoutMs?: number;
  /** The caller's request id (REST X-Request-Id, or the Kafka record), for the logs. */
  traceId?: string;
}

/** The most proposals one propose-batch request may carry. */
export const PROPOSE_BATCH_MAX = 512;

export interface ProposeBatchRequest {
  proposals: { command: Record<string, unknown>; traceId?: string }[];
  timeoutMs?: number;
}

/** One answer per proposal, in order; or the whole batch refused (not the leader, malformed). */
export type ProposeBatchResponse =
  | { status: 'answered'; answers: ProposeResponse[] }
  | { status: 'not-leader'; leaderId: string | null }
  | { status: 'rejected'; reason: string };

export type ProposeResponse =
  | { status: 'applied'; index: number; result: unknown }
  | { status: 'not-leader'; leaderId: string | null }
  /** Refused for good (bad command, invalid or unsafe membership change); `detail` explains. */
  | { status: 'rejected'; reason: string; detail?: string }
  /** Refused for now (see TEMPORARY_REFUSALS): nothing was appended; retry after a pause. */
  | { status: 'unavailable'; reason: string }
  | { status: 'timeout' }
  | { status: 'dropped' };

export interface ReadRequest {
  query: Record<string, unknown>;
  consistency: Consistency;
  minIndex?: number;
  timeoutMs?: number;
}

/** The most reads one read-batch request may carry. */
export const READ_BATCH_MAX = 512;

export interface ReadBatchRequest {
  reads: Omit<ReadRequest, 'timeoutMs'>[];
  timeoutMs?: number;
}

/** One answer per read, in order; or the whole batch refused. */
export type ReadBatchResponse =
  | { status: 'answered'; answers: ReadResponse[] }
  | { status: 'not-leader'; leaderId: string | null }
  | { status: 'rejected'; reason: string };

export type ReadResponse =
  | { status: 'ok'; index: number; result: unknown; stalenessMs?: number }
  | { status: 'not-leader'; leaderId: string | null }
  | { status: 'unavailable'; reason: string }
  | { status: 'timeout' }
  /** minIndex names an entry the leader's log does not hold: no one can have seen it. */
  | { status: 'beyond-log'; lastIndex: number };

/**
 * Refusals that pass on their own: the leader's bound on uncommitted bytes (`too-large`), the
 * replica's bound on proposals waiting to commit (`too-many-pending`), and a leadership transfer
 * under way (it ends within an election timeout). The command was not appended, so a retry
 * with the same requestId is safe; REST answers 503 with Retry-After, and the Kafka consumer
 * retries with back-off instead of dead-lettering. A replica from before the `unavailable`
 * status sends these as `rejected`, which callers classify with this set too.
 */
export const TEMPORARY_REFUSALS: ReadonlySet<string> = new Set([
  'too-large',
  'too-many-pending',
  'transferring-leadership',
]);

/** The refusal reason of a membership change that would leave no reachable quorum. */
export const RECONFIGURATION_UNSAFE = 'reconfiguration-unsafe';

/** The refusal reason of a membership change naming a node that is not in the cluster. */
export const NOT_A_MEMBER = 'not-a-member';

export interface NodeStatus {
  id: string;
  address: string;
  role: string;
  term: number;
  leader: string | null;
  commitIndex: number;
  appliedIndex: number;
  /** Milliseconds since this replica last got a message from each peer it heard from. */
  lastContactMs: Record<string, number>;
  members: { voters: string[]; learners: string[] };
  /** Peer addresses (host:port) this replica knows, by node id (absent before this field). */
  peers?: Record<string, string>;
  /** The newest snapshot's index, and the index still waiting for its S3 upload (or null). */
  snapshotIndex: number;
  snapshotPendingUpload: number | null;
}

/**
 * The NATS subject of `pattern` on replica `nodeId` of cluster `clusterId`, or on any one replica
 * when nodeId is ANY_REPLICA. Clients send there with Nest's NATS client (the subject is the pattern).
 */
/** Stands for any one replica in a subject; node ids cannot start with `_`. */
export const ANY_REPLICA = '_any';

export function commandLogSubject(clusterId: string, nodeId: string, pattern: string): string {
  return `parley.${clusterId}.${nodeId}.${pattern}`;
}

/** The longest a watch read may wait for a new entry (below the caller's RPC timeout). */
export const WATCH_WAIT_MS_MAX = 10_000;
/** The most events one watch read answers; the caller reads again from `upTo`. */
export const WATCH_EVENTS_MAX = 5_000;

export interface WatchRequest {
  /**
   * The last index the caller has: events with a higher index are answered. Absent: none, the
   * caller starts at this replica's newest applied entry (the answer's `upTo`).
   */
  afterIndex?: number;
  /** How long to wait for an entry after `afterIndex` when there is none yet (long poll). */
  waitMs?: number;
  /** At most this many events (whole indexes: the events of one index are never split). */
  eventsMax?: number;
}

export type WatchResponse =
  /**
   * Every event with an index in (afterIndex, upTo], in log order: the entries between them
   * decided nothing. `upTo` equals afterIndex when this replica has nothing newer yet (it may
   * be behind: it serves only what it applied).
   */
  | { status: 'ok'; events: DecisionEvent[]; upTo: number }
  /** This replica no longer holds the events after `afterIndex`: it holds those after `compactedIndex`. */
  | { status: 'compacted'; compactedIndex: number }
  | { status: 'rejected'; reason: string };
