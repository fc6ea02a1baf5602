import { validateCommand } from '@parley/decision';
import type { Response } from 'express';
import { Applied } from '../cluster-client/command-log-client';
import { Problem } from './problem';

/**
 * The shared shape of a strong (Raft) request: a command validated here first, so that a bad
 * body is a 400 naming every bad field before anything reaches the log, and the headers every
 * strong answer carries.
 */
export function strongCommand(
  type: string,
  body: unknown,
  fromPath: Record<string, string>,
  idempotencyKey: string | undefined,
  bodyFields: readonly string[],
): Record<string, unknown> {
  if (body !== undefined && (typeof body !== 'object' || body === null || Array.isArray(body)))
    throw new Problem(400, 'Bad Request', 'the body must be a JSON object');
  const fields = (body ?? {}) as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((k) => k !== 'requestId' && !bodyFields.includes(k));
  const errors = unknown.map((k) => `${k} is not a field of this request`);
  const requestId = fields.requestId ?? idempotencyKey;
  if (requestId === undefined) errors.push('requestId (or the Idempotency-Key header) is required');
  const command: Record<string, unknown> = { type, requestId };
  for (const field of bodyFields) if (fields[field] !== undefined) command[field] = fields[field];
  Object.assign(command, fromPath);
  const validated = validateCommand({ ...command, ts: 0 });
  if (!validated.ok) errors.push(...validated.errors);
  if (errors.length > 0)
    throw new Problem(400, 'Bad Request', 'the request is not valid', {
      errors: [...new Set(errors)],
    });
  return command;
}

export function strongHeaders(response: Response, applied: Applied): void {
  response.setHeader('X-Raft-Index', String(applied.index));
  if (applied.replayed) response.setHeader('Idempotent-Replay', 'true');
}

export type Consistency = 'linearizable' | 'lease' | 'stale';

export function readParams(query: Record<string, unknown>): {
  consistency: Consistency;
  minIndex?: number;
} {
  const consistency = (query.consistency ?? 'linearizable') as string;
  const errors: string[] = [];
  if (!['linearizable', 'lease', 'stale'].includes(consistency))
    errors.push('consistency must be linearizable, lease or stale');
  let minIndex: number | undefined;
  if (query.minIndex !== undefined) {
    minIndex = Number(query.minIndex);
    if (!Number.isSafeInteger(minIndex) || minIndex < 0)
      errors.push('minIndex must be a non-negative integer');
  }
  const unknown = Object.keys(query).filter((k) => k !== 'consistency' && k !== 'minIndex');
  errors.push(...unknown.map((k) => `${k} is not a query parameter of this route`));
  if (errors.length > 0)
    throw new Problem(400, 'Bad Request', 'the query is not valid', { errors });
  return { consistency: consistency as Consistency, minIndex };
}

export function readHeaders(
  response: Response,
  read: { index: number; stalenessMs?: number },
): void {
  response.setHeader('X-Raft-Index', String(read.index));
  if (read.stalenessMs !== undefined)
    response.setHeader('X-Staleness-Ms', String(read.stalenessMs));
}
