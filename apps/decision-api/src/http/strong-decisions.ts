import { Injectable } from '@nestjs/common';
import { Command, restAnswer, validateCommand } from '@parley/decision';
import type { Response } from 'express';
import { Applied, CommandLogClient } from '../cluster-client/command-log-client';
import { DecisionActivity } from '../dashboard/decision-activity';
import { Metrics } from '../metrics/metrics';
import { Problem } from './problem';
import { ReadQuery } from '@parley/decision-api-contract';

export type Found<T> = { found: boolean; value?: T };

/**
 * What every strong route does around its one command or read, in one place: the command goes
 * to the Raft log, the answer's headers are set (X-Raft-Index, Idempotent-Replay,
 * X-Staleness-Ms), and a decision taken (not a replay) is counted in the metrics and listed in
 * the dashboard's activity. The controllers only say which command and what to answer.
 */
@Injectable()
export class StrongDecisions {
  constructor(
    private readonly log: CommandLogClient,
    private readonly metrics: Metrics,
    private readonly activity: DecisionActivity,
  ) {}

  /** Applies `type` with the (validated) body and the path's parameters; the state machine's result. */
  async apply(
    response: Response,
    type: string,
    body: Record<string, unknown>,
    path: Record<string, string>,
  ): Promise<Record<string, unknown>> {
    const traceId = response.getHeader('X-Request-Id');
    const started = performance.now();
    const applied = await this.log.propose(
      strongCommand(type, body, path),
      typeof traceId === 'string' ? traceId : undefined,
    );
    strongHeaders(response, applied);
    if (!applied.replayed) {
      const outcome = String(applied.result.status ?? 'ok');
      this.metrics.decisions.inc({ type, outcome });
      this.activity.record({
        type,
        subject: Object.values(path).join('/'),
        outcome,
        index: applied.index,
        latencyMs: performance.now() - started,
      });
    }
    return applied.result;
  }

  /**
   * Applies the command and answers what its route answers (libs/decision's restAnswer, the
   * same body the watch and the `decisions` topic carry): the body, or a Problem for 404/409.
   */
  async decide(
    response: Response,
    type: Exclude<Command['type'], 'clock' | 'mirror.cursor'>,
    body: Record<string, unknown>,
    path: Record<string, string>,
  ): Promise<Record<string, unknown>> {
    const result = await this.apply(response, type, body, path);
    const command = { type, ...body, ...path } as Parameters<typeof restAnswer>[0];
    const answer = restAnswer(command, result);
    if (answer.status >= 400)
      throw new Problem(answer.status, String(answer.body.title), String(answer.body.detail));
    return answer.body;
  }

  /** Reads with the consistency the query asks for; what was found, and at which index. */
  async read<T>(
    response: Response,
    query: Record<string, unknown>,
    { consistency, minIndex }: ReadQuery,
  ): Promise<{ index: number; found: Found<T> }> {
    const read = await this.log.read(query, consistency, minIndex);
    readHeaders(response, read);
    return { index: read.index, found: read.result as Found<T> };
  }
}

/**
 * A strong (Raft) request as its command: the body (already valid for its route, see
 * ZodValidationPipe) with the path's parameters, checked by the state machine's own rules before
 * anything reaches the log, so a bad path parameter or a policy whose fields disagree (a
 * threshold above all weights) is a 400 naming it too.
 */
function strongCommand(
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

function strongHeaders(response: Response, applied: Applied): void {
  response.setHeader('X-Raft-Index', String(applied.index));
  if (applied.replayed) response.setHeader('Idempotent-Replay', 'true');
}

function readHeaders(response: Response, read: { index: number; stalenessMs?: number }): void {
  response.setHeader('X-Raft-Index', String(read.index));
  if (read.stalenessMs !== undefined)
    response.setHeader('X-Staleness-Ms', String(read.stalenessMs));
}
