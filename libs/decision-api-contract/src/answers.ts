import { z } from 'zod';

/**
 * decision-api's answers (SPEC.md §3) as zod schemas: what a 2xx body holds, route by route.
 * @parley/client's answer types are inferred from these, and the client's end-to-end tests
 * parse every real answer with them (strict objects: a field the server adds or drops fails),
 * so the client's types and the server's answers cannot drift apart unnoticed.
 */
const index = z.int().min(0);

const kvEntry = z.strictObject({ key: z.string(), value: z.string(), version: z.int(), index });
const decisionStatus = z.enum(['accepted', 'rejected']);

export const ANSWERS = {
  kvEntry,
  kvDeleted: z.strictObject({ key: z.string(), deleted: z.literal(true), index }),
  stock: z.strictObject({ sku: z.string(), available: z.int(), reserved: z.int(), index }),
  reservation: z.strictObject({
    status: decisionStatus,
    reason: z.string().optional(),
    available: z.int(),
    index,
  }),
  release: z.strictObject({ status: z.string(), available: z.int() }),
  inventory: z.strictObject({ sku: z.string(), available: z.int(), reserved: z.int() }),
  budget: z.strictObject({
    campaign: z.string(),
    limit: z.int(),
    spent: z.int(),
    remaining: z.int(),
  }),
  spend: z.strictObject({
    status: decisionStatus,
    reason: z.string().optional(),
    remaining: z.int(),
    index,
  }),
  proposalCreated: z.strictObject({ proposalId: z.string(), status: z.literal('open') }),
  vote: z.strictObject({
    counted: z.boolean(),
    status: z.enum(['open', 'decided', 'expired']),
    outcome: z.string().nullable().optional(),
    reason: z.string().optional(),
  }),
  proposal: z.strictObject({
    proposalId: z.string(),
    status: z.enum(['open', 'decided', 'expired']),
    outcome: z.string().nullable().optional(),
    tally: z.record(z.string(), z.number()),
  }),
  /** An eventual write: on the local crdt replica's disk, replicated later. */
  eventualAccepted: z.strictObject({ accepted: z.literal(true), name: z.string() }),
  counter: z.strictObject({ name: z.string(), value: z.number() }),
  set: z.strictObject({ name: z.string(), elements: z.array(z.string()) }),
  flag: z.strictObject({ name: z.string(), value: z.unknown() }),
  agents: z.array(z.strictObject({ id: z.string(), status: z.string(), incarnation: z.int() })),
  transfer: z.strictObject({ status: z.string(), to: z.string().optional() }),
  membership: z.strictObject({ status: z.literal('applied'), index }),
  snapshot: z.strictObject({ index, node: z.string() }),
  /** `Prefer: respond-async`: the command is queued, its outcome is at Location. */
  requestPending: z.strictObject({
    requestId: z.string(),
    state: z.enum(['pending', 'buffered']),
  }),
} as const;

export type Answer<Name extends keyof typeof ANSWERS> = z.output<(typeof ANSWERS)[Name]>;
