import { validateCommand } from '@parley/decision';

/**
 * An `agent-events` record (SPEC.md §4) turned into what it means: a strong command for the
 * Raft log, or an eventual write for the crdt replica. Anything that does not parse or
 * validate is an error value with the reason, for the dead-letter topic.
 */
export type AgentEffect =
  | { kind: 'strong'; command: Record<string, unknown> }
  | { kind: 'eventual'; requestId: string; method: string; path: string; body?: unknown };

const STRONG: Record<string, { type: string; fields: string[] }> = {
  reserve: { type: 'inventory.reserve', fields: ['sku', 'orderId', 'quantity'] },
  release: { type: 'inventory.release', fields: ['sku', 'orderId'] },
  restock: { type: 'inventory.restock', fields: ['sku', 'quantity'] },
  spend: { type: 'budget.spend', fields: ['campaign', 'bidId', 'amount'] },
  vote: { type: 'proposal.vote', fields: ['proposalId', 'agentId', 'option', 'weight'] },
  propose: { type: 'proposal.create', fields: ['proposalId', 'options', 'policy'] },
};

const EVENTUAL: Record<string, string[]> = {
  increment: ['name', 'delta'],
  'set-add': ['name', 'element'],
  'set-remove': ['name', 'element'],
  flag: ['name', 'value'],
};

const RECORD_BYTES_MAX = 256 * 1024;
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

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
  const record = raw as Record<string, unknown>;
  const { type, requestId } = record;
  if (typeof type !== 'string') return { ok: false, reason: 'type is required' };
  if (typeof requestId !== 'string' || requestId.length === 0 || requestId.length > 128)
    return { ok: false, reason: 'requestId must be a string of 1-128 characters' };
  // Own keys only: `type` is untrusted, and "__proto__" or "constructor" would otherwise find
  // Object.prototype members and throw below (a record that throws is redelivered forever).
  const strong = Object.hasOwn(STRONG, type) ? STRONG[type] : undefined;
  const eventual = Object.hasOwn(EVENTUAL, type) ? EVENTUAL[type] : undefined;
  if (!strong && !eventual)
    return { ok: false, reason: `unknown type ${JSON.stringify(type).slice(0, 40)}` };
  const allowed = ['type', 'requestId', ...(strong?.fields ?? eventual ?? [])];
  const unknown = Object.keys(record).filter((k) => !allowed.includes(k));
  if (unknown.length > 0)
    return { ok: false, reason: unknown.map((k) => `${k} is not a field of ${type}`).join('; ') };
  if (strong) {
    const command: Record<string, unknown> = { type: strong.type, requestId };
    for (const field of strong.fields)
      if (record[field] !== undefined) command[field] = record[field];
    const validated = validateCommand({ ...command, ts: 0 });
    if (!validated.ok) return { ok: false, reason: validated.errors.join('; ') };
    const entity = String(command.sku ?? command.campaign ?? command.proposalId);
    return { ok: true, effect: { kind: 'strong', command }, entity };
  }
  const name = record.name;
  if (typeof name !== 'string' || !NAME.test(name))
    return { ok: false, reason: 'name must be 1-128 characters [A-Za-z0-9_.:-]' };
  const path = encodeURIComponent(name);
  const eventualEffect = (method: string, route: string, body?: Record<string, unknown>) => ({
    ok: true as const,
    entity: name,
    effect: {
      kind: 'eventual' as const,
      requestId,
      method,
      path: route,
      ...(body ? { body } : {}),
    },
  });
  switch (type) {
    case 'increment':
      return eventualEffect('POST', `/v1/counters/${path}/increment`, { delta: record.delta });
    case 'set-add':
      return eventualEffect('POST', `/v1/sets/${path}/elements`, { element: record.element });
    case 'set-remove':
      if (typeof record.element !== 'string')
        return { ok: false, reason: 'element must be a string' };
      return eventualEffect(
        'DELETE',
        `/v1/sets/${path}/elements/${encodeURIComponent(record.element)}`,
      );
    default:
      return eventualEffect('PUT', `/v1/flags/${path}`, { value: record.value });
  }
}
