import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiQuery, ApiResponse } from '@nestjs/swagger';
import { z } from 'zod';
import {
  BodySchemas,
  openApiSchema,
  READ_QUERY,
  REQUEST_WAITING,
} from '@parley/decision-api-contract';

/** A route's query parameters, from the schema that checks them (all optional). */
export function QueryDocs(query: z.ZodObject) {
  return applyDecorators(
    ...Object.entries(query.shape).map(([name, schema]) =>
      ApiQuery({ name, required: false, schema: openApiSchema(schema as z.ZodType) }),
    ),
  );
}

/** The query parameters every strong read takes (SPEC.md §2). */
export function ReadQueryDocs() {
  return QueryDocs(READ_QUERY);
}

/** The body a route takes, as its schema documents it. */
export function DocumentedBody(body: BodySchemas) {
  return ApiBody({ schema: openApiSchema(body.documented) });
}

const problem = { 'application/problem+json': { schema: { type: 'object' } } };

/**
 * A strong write's body (when it takes one) and what every strong write may answer about its
 * request id (SPEC.md §2, idempotency).
 */
export function StrongWriteDocs(body?: BodySchemas) {
  return applyDecorators(
    ...(body ? [DocumentedBody(body)] : []),
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      description:
        'The request id when the body carries no requestId. A retry with the same id and body ' +
        'gets the first answer again (header Idempotent-Replay: true) while the id is inside ' +
        'the idempotency window (PARLEY_IDEMPOTENCY_WINDOW_MS of log time, default 10 minutes).',
    }),
    ApiHeader({
      name: 'Prefer',
      required: false,
      description:
        'respond-async (RFC 7240): accept now, decide later. Answered 202 once the command is ' +
        "fsynced to this decision-api's outbox (also while no leader or quorum is reachable), " +
        'with Location: /v1/requests/{requestId} and Preference-Applied: respond-async; GET ' +
        'that for the answer this call would have given. Ignored (answered at once) when the ' +
        'process has no outbox (PARLEY_OUTBOX_DIR).',
    }),
    ApiResponse({
      status: 202,
      description:
        'Prefer: respond-async: accepted, durably queued; the decision follows at the Location.',
      content: { 'application/json': { schema: openApiSchema(REQUEST_WAITING) } },
    }),
    ApiResponse({
      status: 409,
      description:
        'type idempotency-window-passed: the request id is older than the ' +
        'idempotency window; the request is refused, never applied a second time. (Other 409s: ' +
        'a version or proposal conflict.)',
      content: problem,
    }),
    ApiResponse({
      status: 422,
      description:
        'type idempotency-key-reuse: the request id was already used with a ' +
        'different body; nothing was applied.',
      content: problem,
    }),
    ApiResponse({
      status: 503,
      description:
        'No leader or no quorum, or type idempotency-ids-full: the window holds as ' +
        'many request ids as it may, or type outbox-full (Prefer: respond-async): the outbox ' +
        'holds as many requests as it may; retry after Retry-After seconds.',
      content: problem,
    }),
  );
}
