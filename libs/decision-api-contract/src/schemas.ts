import { LIMITS, VOTE_WEIGHT_MAX } from '@parley/decision';
import { z } from 'zod';

/**
 * decision-api's contract: the request bodies and queries of SPEC.md §3 as zod schemas, the one
 * source for what the server accepts (its validation pipe and the agent-events consumer check
 * with them), for what `/docs` says (the OpenAPI schemas are generated from them, openApiSchema
 * below) and for what a TypeScript client may send. A message names no field: the pipe
 * puts the field's path in front, so "quantity" + "must be …" reads as today's errors did.
 * The bounds are the state machine's (LIMITS); it checks every command again when applying it.
 */

// TextEncoder, not Buffer: a client library in a browser imports these schemas too.
const utf8Bytes = (s: string) => new TextEncoder().encode(s).length;
const printable = (s: string) => ![...s].some((ch) => ch.charCodeAt(0) < 0x20);

const ID_RULE = `must be a string of 1-${LIMITS.idLengthMax} printable characters`;
export const id = () =>
  z.string({ error: ID_RULE }).min(1).max(LIMITS.idLengthMax).refine(printable, ID_RULE);

/** An integer in [min, max], with one message whatever is wrong with it. */
const int = (min: number, max: number) =>
  z
    .int({ error: `must be an integer from ${min} to ${max}` })
    .min(min)
    .max(max);

export const requestId = z
  .string({
    error: (issue) =>
      issue.input === undefined ? '(or the Idempotency-Key header) is required' : ID_RULE,
  })
  .min(1)
  .max(LIMITS.idLengthMax)
  .refine(printable, ID_RULE)
  .meta({
    description:
      'Applied at most once: a retry with the same body inside the idempotency window replays ' +
      'the first answer; past the window it is refused (409), with another body refused (422). ' +
      'A UUIDv7 is judged by the time it carries, so its retry is refused however late. May ' +
      'come as the Idempotency-Key header instead.',
  });

/**
 * A strong write's body: its fields and a requestId. Validated with the requestId required (the
 * Idempotency-Key header has been moved into the body by then, see IdempotentBody); documented
 * with it optional, since the header may carry it.
 */
function strongBody<Shape extends z.ZodRawShape>(shape: Shape, example: object) {
  const validated = z.strictObject({ requestId, ...shape });
  return { validated, documented: validated.partial({ requestId: true }).meta({ example }) };
}

function body<Shape extends z.ZodRawShape>(shape: Shape, example: object) {
  const schema = z.strictObject(shape).meta({ example });
  return { validated: schema, documented: schema };
}

const ON_DEADLINE_RULE = 'must be "plurality", "reject" or {"default": option}';

const policy = z.strictObject(
  {
    kind: z.enum(['majority', 'threshold', 'unanimous', 'weighted'], {
      error: 'must be majority, threshold, unanimous or weighted',
    }),
    voters: z
      .array(
        z.string({ error: 'must hold agent ids' }).min(1).max(LIMITS.idLengthMax).refine(printable),
        {
          error: `must be a list of 1-${LIMITS.votersMax} agent ids`,
        },
      )
      .min(1)
      .max(LIMITS.votersMax)
      .refine((v) => new Set(v).size === v.length, 'must not repeat an agent')
      .optional(),
    weights: z
      .record(id(), int(1, VOTE_WEIGHT_MAX), {
        error: `must be an object of agent id to weight`,
      })
      .refine(
        (w) => Object.keys(w).length > 0 && Object.keys(w).length <= LIMITS.votersMax,
        `must weigh 1-${LIMITS.votersMax} agents`,
      )
      .optional()
      .meta({
        description:
          "weighted only: each voter's weight, {agentId: n}. The voters are its keys and a " +
          'vote weighs what it says here; a vote naming another weight is not counted. ' +
          "Without it a vote's own weight counts (default 1), trusting the voter.",
      }),
    quorum: int(1, LIMITS.votersMax).optional(),
    threshold: int(1, Number.MAX_SAFE_INTEGER).optional(),
    deadlineMs: int(1, LIMITS.deadlineMsMax),
    onDeadline: z.union([z.enum(['plurality', 'reject']), z.strictObject({ default: id() })], {
      error: ON_DEADLINE_RULE,
    }),
  },
  { error: 'must be an object' },
);

/** A request body as the server validates it and as /docs documents it. */
export interface BodySchemas {
  validated: z.ZodType;
  documented: z.ZodType;
}

/** The request bodies, each as validated and as documented. */
export const BODIES = {
  kvPut: strongBody(
    {
      value: z
        .string({ error: `must be a string of at most ${LIMITS.valueBytesMax} bytes` })
        .refine((v) => utf8Bytes(v) <= LIMITS.valueBytesMax),
      ifVersion: int(0, Number.MAX_SAFE_INTEGER).optional(),
    },
    { requestId: 'doc-kv', value: 'blue' },
  ),
  restock: strongBody(
    { quantity: int(1, LIMITS.quantityMax) },
    { requestId: 'doc-restock', quantity: 10 },
  ),
  reserve: strongBody(
    { orderId: id(), quantity: int(1, LIMITS.quantityMax) },
    { requestId: 'doc-reserve', orderId: 'doc-order', quantity: 1 },
  ),
  budgetSet: strongBody(
    { limit: int(0, LIMITS.amountMax) },
    { requestId: 'doc-budget', limit: 100 },
  ),
  spend: strongBody(
    { bidId: id(), amount: int(1, LIMITS.amountMax) },
    { requestId: 'doc-spend', bidId: 'doc-bid', amount: 1 },
  ),
  propose: strongBody(
    {
      proposalId: id(),
      options: z
        .array(
          z
            .string({ error: `must hold option names of 1-${LIMITS.idLengthMax} characters` })
            .min(1)
            .max(LIMITS.idLengthMax)
            .refine(printable),
          { error: `must be a list of 2-${LIMITS.optionsMax} options` },
        )
        .min(2)
        .max(LIMITS.optionsMax)
        .refine((v) => new Set(v).size === v.length, 'must not repeat an option'),
      policy,
    },
    {
      requestId: 'doc-proposal',
      proposalId: 'doc-proposal',
      options: ['yes', 'no'],
      policy: { kind: 'majority', voters: ['a1', 'a2'], deadlineMs: 60000, onDeadline: 'reject' },
    },
  ),
  vote: strongBody(
    {
      agentId: id().meta({ description: 'a key bound to an agent may only name that agent' }),
      option: id(),
      weight: int(1, VOTE_WEIGHT_MAX)
        .optional()
        .meta({
          description:
            'weighted proposals without policy.weights only; a key bound to an agent may not ' +
            'send it (the policy weighs votes)',
        }),
    },
    { requestId: 'doc-vote', agentId: 'a1', option: 'yes' },
  ),
  // The eventual bodies carry the crdt replica's own rules and messages (it checks them again).
  increment: body(
    {
      delta: z.int({ error: 'must be an integer between -1e12 and 1e12' }).min(-1e12).max(1e12),
    },
    { delta: 1 },
  ),
  element: body(
    {
      element: z
        .string({ error: 'must be a non-empty string of at most 1 KiB' })
        .min(1)
        .refine((e) => utf8Bytes(e) <= 1024),
    },
    { element: 'doc-element' },
  ),
  flag: body(
    {
      value: z
        .unknown()
        .refine((v) => v !== undefined, 'is required')
        .meta({ description: 'any JSON value of at most 4 KiB' }),
    },
    { value: true },
  ),
  member: body(
    {
      id: z.string({ error: 'must be a node id' }).regex(/^[a-z0-9][a-z0-9_-]{0,62}$/),
      address: z.string({ error: 'must be host:port' }).regex(/^[A-Za-z0-9.-]+:\d{1,5}$/),
      learner: z
        .boolean({ error: 'must be a boolean' })
        .optional()
        .meta({
          description:
            'join as a learner (the safe path): it receives the log without voting; promote it ' +
            'once caught up by adding it again without learner',
        }),
      force: z
        .boolean({ error: 'must be a boolean' })
        .optional()
        .meta({
          description:
            'skip the strict reconfiguration check, which answers 409 reconfiguration-unsafe ' +
            'when the change would leave fewer reachable voters than a quorum',
        }),
    },
    { id: 'n9', address: '127.0.0.1:1', learner: true },
  ),
  transfer: body(
    {
      to: z
        .string({ error: 'must be a node id' })
        .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/)
        .optional(),
    },
    {},
  ),
} as const;

/**
 * A query parameter holding a non-negative integer. Digits only: Number('') and Number(' ') are
 * 0, so an empty parameter would otherwise pass as 0.
 */
export function nonNegativeIntegerParam(description: string) {
  return z
    .string({ error: 'must be a non-negative integer' })
    .refine((raw) => /^\d+$/.test(raw) && Number.isSafeInteger(Number(raw)))
    .transform(Number)
    .optional()
    .meta({ description });
}

/** The query of every strong read (SPEC.md §2). */
export const READ_QUERY = z.strictObject({
  consistency: z
    .enum(['linearizable', 'lease', 'stale'], { error: 'must be linearizable, lease or stale' })
    .default('linearizable'),
  minIndex: nonNegativeIntegerParam(
    'a non-negative integer: answer from a state at least this far on',
  ),
});

/** The query of DELETE /v1/kv/{key}: compare-and-delete. */
export const KV_DELETE_QUERY = z.strictObject({
  ifVersion: nonNegativeIntegerParam('delete only if the key is at this version (409 otherwise)'),
});

export type KvDeleteQuery = z.output<typeof KV_DELETE_QUERY>;

/** The query of DELETE /v1/cluster/members/{id}. */
export const MEMBER_REMOVE_QUERY = z.strictObject({
  force: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .optional()
    .transform((raw) => raw === 'true')
    .meta({
      description:
        'true skips the strict reconfiguration check (409 reconfiguration-unsafe otherwise)',
    }),
});

export type MemberRemoveQuery = z.output<typeof MEMBER_REMOVE_QUERY>;

export type ReadQuery = z.output<typeof READ_QUERY>;

/** A schema as OpenAPI 3.0 describes it (what @nestjs/swagger's document is). */
export function openApiSchema(schema: z.ZodType): Record<string, unknown> {
  return z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input', unrepresentable: 'any' });
}

/** A strong write's answer while it waits: 202 to `Prefer: respond-async`, and its status. */
export const REQUEST_WAITING = z
  .strictObject({
    requestId,
    state: z.enum(['pending', 'buffered']).meta({
      description:
        'pending: accepted, being proposed. buffered: no leader or quorum reachable from this ' +
        'decision-api; kept in its outbox and proposed when one is back.',
    }),
  })
  .meta({ example: { requestId: 'doc-kv', state: 'pending' } });

export type RequestWaiting = z.output<typeof REQUEST_WAITING>;
