import { Injectable } from '@nestjs/common';
import { validateCommand } from '@parley/decision';
import { Applied, CommandLogClient } from '../cluster-client/command-log-client';
import { DecisionActivity } from '../dashboard/decision-activity';
import { Metrics } from '../metrics/metrics';
import { Problem } from './problem';
import { ReadQuery } from '@parley/decision-api-contract';

/**
 * The answer a handler is building, as Express's response and Fastify's reply both expose it
 * (`@Res({ passthrough: true })`): headers are set on it, the body is what the handler returns.
 */
export type Answer = { getHeader(name: string): unknown } & (
  | { header(name: string, value: string): unknown }
  // the fast lane hands handlers the raw ServerResponse
  | { header?: undefined; setHeader(name: string, value: string): unknown }
);

function setHeader(response: Answer, name: string, value: string): void {
  if (response.header) response.header(name, value);
  else response.setHeader(name, value);
}

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
    response: Answer,
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

  /** Reads with the consistency the query asks for; what was found, and at which index. */
  async read<T>(
    response: Answer,
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

function strongHeaders(response: Answer, applied: Applied): void {
  setHeader(response, 'X-Raft-Index', String(applied.index));
  if (applied.replayed) setHeader(response, 'Idempotent-Replay', 'true');
}

function readHeaders(response: Answer, read: { index: number; stalenessMs?: number }): void {
  setHeader(response, 'X-Raft-Index', String(read.index));
  if (read.stalenessMs !== undefined)
    setHeader(response, 'X-Staleness-Ms', String(read.stalenessMs));
}
