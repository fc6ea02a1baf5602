import type { SchemaObject } from '@nestjs/swagger';

/**
 * The request bodies of SPEC.md §3 as JSON Schemas: the one source for what the server accepts
 * (the field lists the validators allow come from here) and for what `/docs` says.
 * `requestId` may also come as the `Idempotency-Key` header, so it is optional in the schema.
 */
const requestId: SchemaObject = {
  type: 'string',
  minLength: 1,
  maxLength: 128,
  description:
    'Applied at most once: a retry with the same body inside the idempotency window replays ' +
    'the first answer; past the window it is refused (409), with another body refused (422). ' +
    'A UUIDv7 is judged by the time it carries, so its retry is refused however late.',
};
const id: SchemaObject = { type: 'string', minLength: 1, maxLength: 128 };
const positive: SchemaObject = { type: 'integer', minimum: 1 };

function body(
  properties: Record<string, SchemaObject>,
  required: string[],
  example: object,
): SchemaObject {
  return { type: 'object', additionalProperties: false, properties, required, example };
}

export const BODIES = {
  kvPut: body(
    { requestId, value: { type: 'string' }, ifVersion: { type: 'integer', minimum: 0 } },
    ['value'],
    { requestId: 'doc-kv', value: 'blue' },
  ),
  restock: body({ requestId, quantity: positive }, ['quantity'], {
    requestId: 'doc-restock',
    quantity: 10,
  }),
  reserve: body({ requestId, orderId: id, quantity: positive }, ['orderId', 'quantity'], {
    requestId: 'doc-reserve',
    orderId: 'doc-order',
    quantity: 1,
  }),
  budgetSet: body({ requestId, limit: { type: 'integer', minimum: 0 } }, ['limit'], {
    requestId: 'doc-budget',
    limit: 100,
  }),
  spend: body({ requestId, bidId: id, amount: positive }, ['bidId', 'amount'], {
    requestId: 'doc-spend',
    bidId: 'doc-bid',
    amount: 1,
  }),
  propose: body(
    {
      requestId,
      proposalId: id,
      options: { type: 'array', items: { type: 'string' }, minItems: 2 },
      policy: {
        type: 'object',
        properties: {
          kind: { type: 'string', enum: ['majority', 'threshold', 'unanimous', 'weighted'] },
          voters: { type: 'array', items: { type: 'string' } },
          weights: {
            type: 'object',
            additionalProperties: { type: 'integer', minimum: 1, maximum: 1_000_000 },
            description:
              "weighted only: each voter's weight, {agentId: n}. The voters are its keys and a " +
              'vote weighs what it says here; a vote naming another weight is not counted. ' +
              "Without it a vote's own weight counts (default 1), trusting the voter.",
          },
          quorum: positive,
          threshold: positive,
          deadlineMs: positive,
          onDeadline: {
            oneOf: [{ type: 'string', enum: ['plurality', 'reject'] }, { type: 'object' }],
          },
        },
        required: ['kind', 'deadlineMs', 'onDeadline'],
      },
    },
    ['proposalId', 'options', 'policy'],
    {
      requestId: 'doc-proposal',
      proposalId: 'doc-proposal',
      options: ['yes', 'no'],
      policy: { kind: 'majority', voters: ['a1', 'a2'], deadlineMs: 60000, onDeadline: 'reject' },
    },
  ),
  vote: body(
    {
      requestId,
      agentId: { ...id, description: 'a key bound to an agent may only name that agent' },
      option: id,
      weight: {
        ...positive,
        description:
          'weighted proposals without policy.weights only; a key bound to an agent may not ' +
          'send it (the policy weighs votes)',
      },
    },
    ['agentId', 'option'],
    {
      requestId: 'doc-vote',
      agentId: 'a1',
      option: 'yes',
    },
  ),
  increment: body({ delta: { type: 'integer' } }, ['delta'], { delta: 1 }),
  element: body({ element: { type: 'string', minLength: 1 } }, ['element'], {
    element: 'doc-element',
  }),
  flag: body({ value: {} }, ['value'], { value: true }),
  member: body(
    {
      id: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' },
      address: { type: 'string' },
      learner: {
        type: 'boolean',
        description:
          'join as a learner (the safe path): it receives the log without voting; promote it ' +
          'once caught up by adding it again without learner',
      },
      force: {
        type: 'boolean',
        description:
          'skip the strict reconfiguration check, which answers 409 reconfiguration-unsafe ' +
          'when the change would leave fewer reachable voters than a quorum',
      },
    },
    ['id', 'address'],
    { id: 'n9', address: '127.0.0.1:1', learner: true },
  ),
  transfer: body({ to: { type: 'string' } }, [], {}),
} satisfies Record<string, SchemaObject>;

/** The fields a body may carry besides `requestId` (what the validators allow). */
export function fieldsOf(schema: SchemaObject): string[] {
  return Object.keys(schema.properties ?? {}).filter((k) => k !== 'requestId');
}
