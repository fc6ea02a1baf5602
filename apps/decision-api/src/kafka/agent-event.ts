import { CrdtWrite, checkWrite } from '@parley/crdt';
import { validateCommand } from '@parley/decision';
import { z } from 'zod';
import { BODIES, id, requestId as requestIdSchema } from '@parley/decision-api-contract';
import { issueMessages } from '../http/validation';

/**
 * An `agent-events` record (SPEC.md §4) turned into what it means: a strong command for the
 * Raft log, or an eventual write for the crdt replica. Anything that does not parse or
 * validate is an error value with the reason, for the dead-letter topic.
 */
export type AgentEffect =
  | { kind: 'strong'; command: Record<string, unknown> }
  | { kind: 'eventual'; requestId: string; write: CrdtWrite };

/**
 * Each strong record is its REST body (the same zod schema) with what REST takes from the path.
 */
const STRONG: Record<string, { type: string; schema: z.ZodObject }> = {
  reserve: { type: 'inventory.reserve', schema: BODIES.reserve.validated.extend({ sku: id() }) },
  release: {
    type: 'inventory.release',
    schema: z.strictObject({ requestId: requestIdSchema, sku: id(), orderId: id() }),
  },
  restock: { type: 'inventory.restock', schema: BODIES.restock.validated.extend({ sku: id() }) },
  spend: { type: 'budget.spend', schema: BODIES.spend.validated.extend({ campaign: id() }) },
  vote: { type: 'proposal.vote', schema: BODIES.vote.validated.extend({ proposalId: id() }) },
  propose: { type: 'proposal.create', schema: BODIES.propose.validated },
};

const NAME = z
  .string({ error: 'must be 1-128 characters [A-Za-z0-9_.:-]' })
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/);
const ELEMENT = z.string({ error: 'must be a string' });

/** Each eventual record is its REST body (the same zod schema) with the name from the path. */
const named = { requestId: requestIdSchema, name: NAME };
const EVENTUAL: Record<string, z.ZodObject> = {
  increment: BODIES.increment.validated.extend(named),
  'set-add': BODIES.element.validated.extend(named),
  'set-remove': z.strictObject({ ...named, element: ELEMENT }),
  flag: BODIES.flag.validated.extend(named),
};

const RECORD_BYTES_MAX = 256 * 1024;

export function parseAgentEvent(
  value: Buffer | null,
): { ok: true; effect: AgentEffect; entity: string } | { ok: false; reason: string } {
  if (!value || value.length === 0) return { ok: false, reason: 'empty record' };
  if (value.length > RECORD_BYTES_MAX)
    return { ok: false, reason: `record larger than ${RECORD_BYTES_MAX} bytes` };
  let raw: unknown;
  try {
    raw = JSON.parse(value.toString('utf8'));
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return { ok: false, reason: 'not a JSON object' };
  const { type, ...fields } = raw as Record<string, unknown>;
  const { requestId } = fields;
  if (typeof type !== 'string') return { ok: false, reason: 'type is required' };
  if (typeof requestId !== 'string' || requestId.length === 0 || requestId.length > 128)
    return { ok: false, reason: 'requestId must be a string of 1-128 characters' };
  // Own keys only: `type` is untrusted, and "__proto__" or "constructor" would otherwise find
  // Object.prototype members and throw below (a record that throws is redelivered forever).
  const strong = Object.hasOwn(STRONG, type) ? STRONG[type] : undefined;
  const eventual = Object.hasOwn(EVENTUAL, type) ? EVENTUAL[type] : undefined;
  if (!strong && !eventual)
    return { ok: false, reason: `unknown type ${JSON.stringify(type).slice(0, 40)}` };
  const checked = (strong?.schema ?? eventual!).safeParse(fields);
  if (!checked.success) {
    const unknownField = (key: string) => `${key} is not a field of ${type}`;
    return { ok: false, reason: issueMessages(checked.error.issues, unknownField).join('; ') };
  }
  const record = checked.data as Record<string, unknown>;
  if (strong) {
    const command: Record<string, unknown> = { type: strong.type, ...record };
    // The state machine's own rules across fields (a policy's threshold against its weights).
    const validated = validateCommand({ ...command, ts: 0 });
    if (!validated.ok) return { ok: false, reason: validated.errors.join('; ') };
    const entity = String(command.sku ?? command.campaign ?? command.proposalId);
    return { ok: true, effect: { kind: 'strong', command }, entity };
  }
  const name = record.name as string;
  const wire: Record<string, unknown> =
    type === 'increment'
      ? { op: 'increment', name, delta: record.delta }
      : type === 'flag'
        ? { op: 'flag', name, value: record.value }
        : { op: type, name, element: record.element };
  // The crdt replica's own bounds (a flag value's encoded size): refused here, the record is
  // dead-lettered with the reason instead of being refused after it was taken.
  try {
    const write = checkWrite(wire);
    return { ok: true, entity: name, effect: { kind: 'eventual', requestId, write } };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}
