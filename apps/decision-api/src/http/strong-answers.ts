import { Problem } from './problem';

type Result = Record<string, unknown>;
type Path = Record<string, string>;

/**
 * What a strong write answers, from the state machine's result: its success status and body, or
 * a Problem (a version conflict, a stranger). One table for the synchronous routes and for a
 * request accepted with `Prefer: respond-async` and decided later (GET /v1/requests/{id} answers
 * exactly what the synchronous call would have).
 */
export interface StrongAnswer {
  /** The route's success status (its @HttpCode; 201 for a created proposal). */
  status: number;
  body: (result: Result, path: Path) => Result;
}

function versionConflict(key: string, result: Result): Problem {
  return new Problem(409, 'Conflict', `key ${key} is at version ${String(result.currentVersion)}`);
}

export const STRONG_ANSWERS = {
  'kv.put': {
    status: 200,
    body: (result, { key }) => {
      if (result.status === 'conflict') throw versionConflict(key, result);
      return { key: result.key, value: result.value, version: result.version, index: result.index };
    },
  },
  'kv.delete': {
    status: 200,
    body: (result, { key }) => {
      if (result.status === 'not-found') throw new Problem(404, 'Not Found', `no key ${key}`);
      if (result.status === 'conflict') throw versionConflict(key, result);
      return { key, deleted: true, index: result.index };
    },
  },
  'inventory.restock': {
    status: 200,
    body: (result, { sku }) => ({
      sku,
      available: result.available,
      reserved: result.reserved,
      index: result.index,
    }),
  },
  'inventory.reserve': {
    status: 200,
    body: (result) => ({
      status: result.status,
      ...(result.reason ? { reason: result.reason } : {}),
      available: result.available,
      index: result.index,
    }),
  },
  'inventory.release': {
    status: 200,
    body: (result, { sku, orderId }) => {
      if (result.status === 'not-found')
        throw new Problem(404, 'Not Found', `no reservation ${orderId} on ${sku}`);
      return { status: result.status, available: result.available };
    },
  },
  'budget.set': {
    status: 200,
    body: (result, { campaign }) => ({
      campaign,
      limit: result.limit,
      spent: result.spent,
      remaining: result.remaining,
    }),
  },
  'budget.spend': {
    status: 200,
    body: (result) => ({
      status: result.status,
      ...(result.reason ? { reason: result.reason } : {}),
      remaining: result.remaining,
      index: result.index,
    }),
  },
  'proposal.create': {
    status: 201,
    body: (result) => {
      if (result.status === 'conflict')
        throw new Problem(409, 'Conflict', `proposal ${String(result.proposalId)} exists`);
      return { proposalId: result.proposalId, status: result.status };
    },
  },
  'proposal.vote': {
    status: 200,
    body: (result) => ({
      counted: result.counted,
      status: result.status,
      ...(result.outcome !== undefined ? { outcome: result.outcome } : {}),
      ...(result.reason ? { reason: result.reason } : {}),
    }),
  },
} satisfies Record<string, StrongAnswer>;

export type StrongWriteType = keyof typeof STRONG_ANSWERS;

export function isStrongWriteType(type: string): type is StrongWriteType {
  return Object.hasOwn(STRONG_ANSWERS, type);
}
