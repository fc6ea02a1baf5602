import { backoffDelayMs } from '@parley/resilience';

/**
 * When the client may send a logical operation again, and after how long: a pure function of
 * what happened to the last attempt, so the rules can be read (and tested) as a table.
 */

/**
 * How safe an operation is to send twice.
 * - `read`: reads change nothing.
 * - `idempotent`: a strong write carrying a requestId (the log applies it at most once), or an
 *   eventual write whose effect is the same however often it lands (a set add or remove, a flag).
 * - `unsafe`: applied again if sent again (a counter increment, an operator's action): retried
 *   only when the server cannot have seen it.
 */
export type Safety = 'read' | 'idempotent' | 'unsafe';

/** What became of one attempt. */
export type AttemptFailure =
  /** Never reached a server (connection refused, no such host, the endpoint's breaker open). */
  | { kind: 'not-sent' }
  /** Sent, then the connection broke or the attempt timed out: it may have been applied. */
  | { kind: 'lost' }
  /** The server answered with an error status. */
  | { kind: 'answer'; status: number; retryAfterMs?: number };

export interface RetryVerdict {
  retry: boolean;
  /** Try the next endpoint rather than the same one. */
  failover: boolean;
  /** The attempt may have been applied (a write, sent, with no answer saying otherwise). */
  mayHaveApplied: boolean;
}

/** 503 (no leader, no quorum, upstream down) and 502 say "not now": another endpoint may do. */
const NOT_NOW = new Set([502, 503]);

export function judgeAttempt(safety: Safety, failure: AttemptFailure): RetryVerdict {
  const write = safety !== 'read';
  switch (failure.kind) {
    case 'not-sent':
      return { retry: true, failover: true, mayHaveApplied: false };
    case 'lost':
      return { retry: safety !== 'unsafe', failover: true, mayHaveApplied: write };
    case 'answer': {
      const { status } = failure;
      // Refused before any handler ran (the per-key limiter): never applied, safe for all.
      if (status === 429) return { retry: true, failover: false, mayHaveApplied: false };
      if (NOT_NOW.has(status))
        return { retry: safety !== 'unsafe', failover: true, mayHaveApplied: false };
      // 504: the leader took it and no outcome came back in time.
      if (status === 504)
        return { retry: safety !== 'unsafe', failover: true, mayHaveApplied: write };
      return { retry: false, failover: false, mayHaveApplied: false };
    }
  }
}

export interface BackoffOptions {
  delayMsBase: number;
  delayMsMax: number;
}

/**
 * The pause before attempt `attempt + 1`: exponential back-off with full jitter, and never less
 * than the server's Retry-After (plus a little jitter, so a crowd told "1 s" does not return
 * in one instant).
 */
export function retryDelayMs(
  attempt: number,
  failure: AttemptFailure,
  options: BackoffOptions,
  random: () => number,
): number {
  const jittered = backoffDelayMs(attempt, options, random);
  if (failure.kind === 'answer' && failure.retryAfterMs !== undefined)
    return failure.retryAfterMs + Math.floor(random() * options.delayMsBase);
  return jittered;
}

/** Retry-After in milliseconds: delta-seconds or an HTTP date; undefined when absent or bad. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1_000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
