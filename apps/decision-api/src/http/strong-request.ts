import { validateCommand } from '@parley/decision';
import type { Response } from 'express';
import { Applied } from '../cluster-client/command-log-client';
import { Problem } from './problem';

/**
 * A strong (Raft) request as its command: the body (already valid for its route, see
 * ZodValidationPipe) with the path's parameters, checked by the state machine's own rules before
 * anything reaches the log, so a bad path parameter or a policy whose fields disagree (a
 * threshold above all weights) is a 400 naming it too.
 */
export function strongCommand(
  type: string,
  body: Record<string, unknown>,
  fromPath: Record<string, string>,
): Record<string, unknown> {
  const command: Record<string, unknown> = { type, ...body, ...fromPath };
  const errors: string[] = [];
  // The DELETE routes have no body: their requestId can only be the Idempotency-Key header.
  if (command.requestId === undefined)
    errors.push('requestId (or the Idempotency-Key header) is required');
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

export function readHeaders(
  response: Response,
  read: { index: number; stalenessMs?: number },
): void {
  response.setHeader('X-Raft-Index', String(read.index));
  if (read.stalenessMs !== undefined)
    response.setHeader('X-Staleness-Ms', String(read.stalenessMs));
}
