/**
 * Every failure the client reports is one of these typed errors, carrying the server's
 * problem+json (RFC 9457) when there was an answer. Domain refusals (out of stock, over budget,
 * a vote not counted) are not errors: they are decisions, answered 200 with status "rejected".
 */

/** The problem+json body decision-api answers with, as far as the client reads it. */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  errors?: string[];
  instance?: string;
  [field: string]: unknown;
}

export interface ParleyErrorDetails {
  /** The HTTP status, when an endpoint answered. */
  status?: number;
  problem?: Problem;
  /** The request id of the logical operation (the same on every retry). */
  requestId?: string;
  /** Method and path, e.g. `PUT /v1/kv/colour`. */
  operation?: string;
  /** The endpoint that gave the last answer or failure. */
  endpoint?: string;
  /** Attempts made, across endpoints. */
  attempts?: number;
  /** Retry-After of the answer, in milliseconds. */
  retryAfterMs?: number;
  cause?: unknown;
}

export class ParleyError extends Error {
  readonly status?: number;
  readonly problem?: Problem;
  readonly requestId?: string;
  readonly operation?: string;
  readonly endpoint?: string;
  readonly attempts?: number;
  readonly retryAfterMs?: number;

  constructor(message: string, details: ParleyErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.status = details.status;
    this.problem = details.problem;
    this.requestId = details.requestId;
    this.operation = details.operation;
    this.endpoint = details.endpoint;
    this.attempts = details.attempts;
    this.retryAfterMs = details.retryAfterMs;
  }

  /** The problem's detail and field errors, or the message when there was no answer. */
  get detail(): string {
    const problem = this.problem;
    const text = [problem?.detail ?? problem?.title, ...(problem?.errors ?? [])]
      .filter(Boolean)
      .join('; ');
    return text || this.message;
  }

  /** The problem's type (e.g. `idempotency-key-reuse`), when it names one. */
  get problemType(): string | undefined {
    const type = this.problem?.type;
    return type && type !== 'about:blank' ? type : undefined;
  }
}

/** 400/413/422: the request itself is wrong (or was refused locally before sending). */
export class ParleyBadRequest extends ParleyError {}
/** 422 idempotency-key-reuse: the request id was used before with another body. */
export class ParleyIdempotencyKeyReuse extends ParleyBadRequest {}
export class ParleyUnauthorized extends ParleyError {}
export class ParleyForbidden extends ParleyError {}
export class ParleyNotFound extends ParleyError {}
/** 409: a version or proposal conflict, an unsafe reconfiguration, a request id past its window. */
export class ParleyConflict extends ParleyError {}
export class ParleyRateLimited extends ParleyError {}
/**
 * No endpoint could take the request now (no leader, no quorum, nothing listening, every
 * breaker open, the deadline passed before any attempt could have applied it): it was not
 * applied, and trying again later is safe.
 */
export class ParleyUnavailable extends ParleyError {}
/**
 * A write may or may not have been applied (504, or a connection lost after the request was
 * sent) and the retries ran out. Retrying with the same requestId later settles it: it is
 * applied at most once.
 */
export class ParleyOutcomeUnknown extends ParleyError {}
/**
 * The watch's resume point is older than what the replicas keep (410 or a `compacted` event):
 * read the current state and watch again from `resyncFrom`.
 */
export class ParleyCompacted extends ParleyError {
  constructor(
    message: string,
    readonly compactedIndex: number,
    readonly resyncFrom: number,
    details: ParleyErrorDetails = {},
  ) {
    super(message, details);
  }
}
/** An answer the client did not expect (a 5xx other than 503/504, or a body that is not JSON). */
export class ParleyUnexpected extends ParleyError {}

/** The typed error an HTTP error answer means. */
export function errorForAnswer(status: number, problem: Problem, details: ParleyErrorDetails) {
  const detail = [problem.detail ?? problem.title, ...(problem.errors ?? [])]
    .filter(Boolean)
    .join('; ');
  const message = `${status}${problem.type && problem.type !== 'about:blank' ? ` ${problem.type}` : ''}: ${detail || 'no detail'}`;
  const all = { ...details, status, problem };
  if (status === 422 && problem.type === 'idempotency-key-reuse')
    return new ParleyIdempotencyKeyReuse(message, all);
  if (status === 400 || status === 413 || status === 422) return new ParleyBadRequest(message, all);
  if (status === 401) return new ParleyUnauthorized(message, all);
  if (status === 403) return new ParleyForbidden(message, all);
  if (status === 404) return new ParleyNotFound(message, all);
  if (status === 409) return new ParleyConflict(message, all);
  if (status === 410) {
    const compactedIndex = Number(problem.compactedIndex ?? 0);
    const resyncFrom = Number(problem.resyncFrom ?? compactedIndex);
    return new ParleyCompacted(message, compactedIndex, resyncFrom, all);
  }
  if (status === 429) return new ParleyRateLimited(message, all);
  if (status === 503) return new ParleyUnavailable(message, all);
  if (status === 504) return new ParleyOutcomeUnknown(message, all);
  return new ParleyUnexpected(message, all);
}
