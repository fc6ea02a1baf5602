import { ClusterOutcome } from '../cluster-client/outcomes';
import { Problem } from './problem';

/**
 * The one place the command log's outcomes become HTTP answers (SPEC.md §2): 503 with
 * Retry-After for "not now", 504 for "unknown", 404 and 409 for a stranger and a conflict, 422
 * and 409 for the idempotency refusals.
 */
export function problemFor(outcome: ClusterOutcome): Problem {
  switch (outcome.kind) {
    case 'unavailable':
      return new Problem(503, 'Service Unavailable', outcome.detail, {
        retryAfterSeconds: outcome.retryAfterS,
        ...(outcome.reason ? { type: outcome.reason } : {}),
      });
    case 'outcome-unknown':
      return new Problem(504, 'Gateway Timeout', outcome.detail);
    case 'invalid':
      return new Problem(400, 'Bad Request', outcome.detail);
    case 'not-found':
      return new Problem(404, 'Not Found', outcome.detail);
    case 'conflict':
      return new Problem(409, 'Conflict', outcome.detail, { type: outcome.reason });
    case 'key-reuse':
      return new Problem(
        422,
        'Unprocessable Content',
        `requestId ${outcome.requestId} was already used for a request with a different body; use a new requestId for a new request`,
        { type: 'idempotency-key-reuse' },
      );
    case 'window-passed':
      return new Problem(
        409,
        'Conflict',
        `requestId ${outcome.requestId} is older than the idempotency window (${outcome.windowMs / 1000} s of log time); it is not applied again`,
        { type: 'idempotency-window-passed' },
      );
    case 'ids-full':
      return new Problem(
        503,
        'Service Unavailable',
        'the idempotency window holds as many request ids as it may; retry later',
        { type: 'idempotency-ids-full', retryAfterSeconds: outcome.retryAfterS },
      );
    case 'upstream-refused':
      return new Problem(502, 'Bad Gateway', outcome.detail);
    case 'unexpected':
      return new Problem(500, 'Internal Server Error', outcome.detail);
  }
}
