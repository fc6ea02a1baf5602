import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Command, restAnswer, validateCommand } from '@parley/decision';
import type { IncomingMessage } from 'node:http';
import { AsyncRequests } from '../async/async-requests';
import type { AuthenticatedRequest } from '../auth/api-keys';
import { Settled } from '../async/outbox-drainer';
import { AcceptedRequest } from '../async/outbox-state';
import { Applied, CommandLogClient } from '../cluster-client/command-log-client';
import { ClusterRefused, isTransient } from '../cluster-client/outcomes';
import { DecisionActivity } from '../dashboard/decision-activity';
import { Metrics } from '../metrics/metrics';
import { prefersRespondAsync } from './prefer';
import { Problem, RenderedAnswer, renderProblem } from './problem';
import { ReadQuery } from '@parley/decision-api-contract';

/**
 * The answer a handler is building, as Express's response, Fastify's reply and the fast lane's
 * raw ServerResponse all expose it (`@Res({ passthrough: true })`): headers are set on it, the
 * body is what the handler returns, and it leads back to its request.
 */
export type Answer = {
  getHeader(name: string): unknown;
  /** Express's response and the raw ServerResponse. */
  req?: IncomingMessage;
  /** Fastify's reply. */
  request?: { headers: IncomingMessage['headers']; url: string };
} & (
  | { header(name: string, value: string): unknown }
  // the fast lane hands handlers the raw ServerResponse
  | { header?: undefined; setHeader(name: string, value: string): unknown }
);

function setHeader(response: Answer, name: string, value: string): void {
  if (response.header) response.header(name, value);
  else response.setHeader(name, value);
}

/** The request an answer belongs to (as the API key guard left it), on any of the three. */
function requestOf(response: Answer): AnsweredRequest {
  const request = (response.req ?? response.request) as AnsweredRequest | undefined;
  if (!request) throw new Error('an answer without its request');
  return request;
}

type AnsweredRequest = Pick<AuthenticatedRequest, 'caller'> & {
  headers: IncomingMessage['headers'];
  url: string;
};

export type Found<T> = { found: boolean; value?: T };

/**
 * What every strong route does around its one command or read, in one place: the command goes
 * to the Raft log, the answer's headers are set (X-Raft-Index, Idempotent-Replay,
 * X-Staleness-Ms), and a decision taken (not a replay) is counted in the metrics and listed in
 * the dashboard's activity. The controllers only say which command; the answer is the route's
 * (libs/decision's restAnswer, the same body the watch and the `decisions` topic carry). With
 * `Prefer: respond-async` (and an outbox) the command is queued instead and answered 202; the
 * outbox's drainer settles it here later, with the same answer.
 */
@Injectable()
export class StrongDecisions implements OnApplicationBootstrap {
  constructor(
    private readonly log: CommandLogClient,
    private readonly metrics: Metrics,
    private readonly activity: DecisionActivity,
    private readonly asyncRequests: AsyncRequests,
  ) {}

  onApplicationBootstrap(): void {
    this.asyncRequests.startDraining((request) => this.settle(request));
  }

  /**
   * Decides `type` with the (validated) body and the path's parameters: the route's answer
   * body (a Problem thrown for a conflict or a stranger), or a 202 (thrown as an EarlyAnswer)
   * once queued when the request prefers respond-async.
   */
  async decide(
    response: Answer,
    type: StrongWriteType,
    body: Record<string, unknown>,
    path: Record<string, string>,
  ): Promise<Record<string, unknown>> {
    const command = strongCommand(type, body, path);
    const request = requestOf(response);
    if (this.asyncRequests.enabled && prefersRespondAsync(request.headers.prefer)) {
      // The submitter's binding: only the same binding (or an operator) reads the status.
      const agentId = request.caller?.agentId;
      throw await this.asyncRequests.accept({
        requestId: String(command.requestId),
        type,
        command,
        path,
        url: request.url,
        acceptedAt: Date.now(),
        ...(agentId === undefined ? {} : { agentId }),
      });
    }
    const traceId = response.getHeader('X-Request-Id');
    const applied = await this.propose(
      type,
      command,
      path,
      typeof traceId === 'string' ? traceId : undefined,
    );
    strongHeaders(response, applied);
    const answer = routeAnswer(command, applied.result);
    if (answer instanceof Problem) throw answer;
    return answer.body;
  }

  /**
   * Settles a request from the outbox: the answer the synchronous route would have given, or
   * not-now when the cluster cannot take it yet (no leader, no quorum, outcome unknown: the
   * drainer proposes it again, the requestId keeping it applied once).
   */
  async settle(request: AcceptedRequest): Promise<Settled> {
    const type = request.type;
    let applied: Applied;
    try {
      applied = await this.propose(type, request.command, request.path, request.requestId);
    } catch (error) {
      if (error instanceof ClusterRefused && isTransient(error.outcome)) return { kind: 'not-now' };
      return { kind: 'decided', answer: withoutExtras(renderProblem(error, request.url)) };
    }
    const headers: Record<string, string> = { 'X-Raft-Index': String(applied.index) };
    if (applied.replayed) headers['Idempotent-Replay'] = 'true';
    const answer = routeAnswer(request.command, applied.result);
    if (answer instanceof Problem) {
      const problem = withoutExtras(renderProblem(answer, request.url));
      return {
        kind: 'decided',
        answer: { ...problem, headers: { ...problem.headers, ...headers } },
      };
    }
    const { status, body } = answer;
    return { kind: 'decided', answer: { status, headers, contentType: 'application/json', body } };
  }

  /** Proposes a validated command; a decision taken (not a replay) is counted and listed. */
  private async propose(
    type: string,
    command: Record<string, unknown>,
    path: Record<string, string>,
    traceId: string | undefined,
  ): Promise<Applied> {
    const started = performance.now();
    const applied = await this.log.propose(command, traceId);
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
    return applied;
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

type StrongWriteType = Exclude<Command['type'], 'clock' | 'mirror.cursor'>;

/** The route's answer to an applied command: its status and body, or its Problem (404/409). */
function routeAnswer(
  command: Record<string, unknown>,
  result: Record<string, unknown>,
): { status: number; body: Record<string, unknown> } | Problem {
  const answer = restAnswer(command as Parameters<typeof restAnswer>[0], result);
  if (answer.status < 400) return answer;
  return new Problem(answer.status, String(answer.body.title), String(answer.body.detail));
}

function withoutExtras({ unexpected: _, ...answer }: RenderedAnswer & { unexpected: boolean }) {
  return answer;
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
