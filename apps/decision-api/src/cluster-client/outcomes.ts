/**
 * Why the cluster (the command log, or a crdt or gossip upstream) did not do what was asked, as
 * typed values: what decision-api's callers need to tell apart, and nothing about HTTP. The REST side turns them into problems in one
 * place (http/outcome-to-problem.ts); the Kafka consumer decides on them whether a record is
 * retried or dead-lettered.
 */
export type ClusterOutcome =
  /** Nothing was done and a retry with the same requestId may pass soon (no leader, back-pressure). */
  | { kind: 'unavailable'; detail: string; retryAfterS: number; reason?: string }
  /** The command may or may not have been applied; a retry with the same requestId settles it. */
  | { kind: 'outcome-unknown'; detail: string }
  /** The cluster refuses the request as it is (a rejected command, a minIndex beyond the log). */
  | { kind: 'invalid'; detail: string }
  /** What the request names does not exist (a member to remove). */
  | { kind: 'not-found'; detail: string }
  /** The cluster's state refuses the change (e.g. reconfiguration-unsafe), named by `reason`. */
  | { kind: 'conflict'; detail: string; reason: string }
  /** The requestId was already used with another body: nothing was applied. */
  | { kind: 'key-reuse'; requestId: string }
  /** The requestId is older than the idempotency window: it is not applied again. */
  | { kind: 'window-passed'; requestId: string; windowMs: number }
  /** The idempotency window holds as many request ids as it may, for now. */
  | { kind: 'ids-full'; retryAfterS: number }
  /** An upstream refused a request decision-api had already checked: its fault, not the caller's. */
  | { kind: 'upstream-refused'; detail: string }
  /** An answer this client does not know: a bug on one side, not the caller's doing. */
  | { kind: 'unexpected'; detail: string };

/** What the clients throw when the cluster did not do what was asked. */
export class ClusterRefused extends Error {
  constructor(readonly outcome: ClusterOutcome) {
    super(`cluster: ${outcome.kind}${'detail' in outcome ? ` (${outcome.detail})` : ''}`);
  }
}

/** Will the same request never pass, however often it is sent? */
export function isFinal(outcome: ClusterOutcome): boolean {
  return ['invalid', 'not-found', 'conflict', 'key-reuse', 'window-passed'].includes(outcome.kind);
}

/**
 * A final refusal (invalid, requestId reused with another body, idempotency window passed) will
 * never succeed: a Kafka record refused so is dead-lettered. Anything else is retried with
 * back-off, including the temporary refusals (back-pressure, a leadership transfer).
 */
export function isFinalRefusal(error: unknown): error is ClusterRefused {
  return error instanceof ClusterRefused && isFinal(error.outcome);
}

/** May the same request pass if sent again shortly (same requestId, so at most once)? */
export function isTransient(outcome: ClusterOutcome): boolean {
  return ['unavailable', 'ids-full', 'outcome-unknown'].includes(outcome.kind);
}

export function unavailable(detail: string, retryAfterS = 1): ClusterRefused {
  return new ClusterRefused({ kind: 'unavailable', detail, retryAfterS });
}

/**
 * The outcome of a command the state machine's session table refused (nothing was applied),
 * the same on every route and for Kafka records. Undefined for any other result.
 */
export function sessionRefusal(result: Record<string, unknown>): ClusterOutcome | undefined {
  if (result.status !== 'refused') return undefined;
  const requestId = String(result.requestId);
  switch (result.reason) {
    case 'idempotency-key-reuse':
      return { kind: 'key-reuse', requestId };
    case 'idempotency-window-passed':
      return { kind: 'window-passed', requestId, windowMs: Number(result.windowMs) };
    case 'idempotency-ids-full':
      return {
        kind: 'ids-full',
        retryAfterS: Math.max(1, Math.ceil(Number(result.retryAfterMs) / 1000)),
      };
    default:
      return { kind: 'unexpected', detail: `unknown refusal ${String(result.reason)}` };
  }
}

/** A refusal that passes on its own (back-pressure, a leadership transfer): 503 for REST. */
export function temporarilyRefused(reason: string): ClusterRefused {
  const why: Record<string, string> = {
    'too-large': 'the leader holds too many uncommitted bytes',
    'too-many-pending': 'the leader holds too many proposals waiting to commit',
    'transferring-leadership': 'leadership is being transferred',
  };
  return new ClusterRefused({
    kind: 'unavailable',
    detail: `${why[reason] ?? reason}; retry with the same requestId after Retry-After`,
    retryAfterS: 1,
    reason,
  });
}
