import { Controller, Get, Headers, Query, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiHeader,
  ApiOperation,
  ApiProduces,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { ServerResponse } from 'node:http';
import {
  DECISION_EVENT,
  openApiSchema,
  WATCH_QUERY,
  WatchQuery,
} from '@parley/decision-api-contract';
import { Roles } from '../auth/api-keys';
import { QueryDocs } from '../http/docs';
import { Problem } from '../http/problem';
import { ZodValidationPipe } from '../http/validation';
import { Metrics } from '../metrics/metrics';
import { resumePoint } from './watch-filter';
import { WatchHub } from './watch-hub';
import { WatchSession } from './watch-session';

const WATCH_QUERY_PIPE = new ZodValidationPipe(WATCH_QUERY, 'query');
const problem = { 'application/problem+json': { schema: { type: 'object' } } };

/**
 * `GET /v1/watch`: every committed strong outcome, in log order, as server-sent events whose id
 * is the Raft index. Goes through Nest (not the fast lane): a stream is long-lived, its cost is
 * in the fan-out (WatchHub), not in routing.
 */
@ApiTags('watch')
@ApiBearerAuth()
@Controller('v1')
export class WatchController {
  constructor(
    private readonly hub: WatchHub,
    private readonly metrics: Metrics,
  ) {}

  @ApiOperation({
    summary: 'watch decisions (server-sent events)',
    description:
      'Every committed strong outcome in log order: `event: decision`, `id: <raft index>`, ' +
      '`data: <decision event>` (index, type, entity, requestId, result = the body the REST ' +
      'route answered, decidedBy command|deadline; proposals closed at their deadline are ' +
      '`proposal.decided`). Resume with fromIndex or Last-Event-ID (the last index seen): no ' +
      'gap and no duplicate across leader changes, replica crashes and decision-api restarts. ' +
      'When the resume point is older than the replicas retain: `event: compacted` with ' +
      '{compactedIndex, resyncFrom} then close (410 for a fresh request). A watcher that reads ' +
      'too slowly gets `event: overflow` and is closed. `: heartbeat` comments keep proxies ' +
      'open; `event: alert` carries operational alerts ({kind, ...}). Beyond ' +
      'PARLEY_WATCH_WATCHERS_MAX watchers per process: 503 with Retry-After.',
  })
  @QueryDocs(WATCH_QUERY)
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'resume after this index' })
  @ApiProduces('text/event-stream')
  @ApiResponse({
    status: 200,
    description: 'the event stream; each decision event`s data is this schema',
    content: { 'text/event-stream': { schema: openApiSchema(DECISION_EVENT) } },
  })
  @ApiResponse({
    status: 410,
    description: 'type watch-compacted: the resume point is gone; {compactedIndex, resyncFrom}',
    content: problem,
  })
  @ApiResponse({ status: 503, description: 'too many watchers, or no replica', content: problem })
  @Get('watch')
  @Roles('reader', 'agent', 'operator')
  async watch(
    @Query(WATCH_QUERY_PIPE) query: WatchQuery,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Res() answer: ServerResponse | HijackableReply,
  ): Promise<void> {
    const from = resumePoint(query.fromIndex, lastEventId);
    if (!from.ok) throw new Problem(400, 'Bad Request', from.error, { errors: [from.error] });
    if (!this.hub.admit())
      throw new Problem(
        503,
        'Service Unavailable',
        'this decision-api serves as many watchers as it may',
        {
          type: 'watchers-full',
          retryAfterSeconds: 5,
        },
      );
    // A stream outlives the handler: it is written on the socket's own response, which Express's
    // response is and Fastify's reply holds (and is told to leave alone).
    const response = rawResponseOf(answer);
    const session = new WatchSession(
      response,
      { prefixes: query.prefix, types: query.types },
      from.index,
      this.hub.options.bufferBytesMax,
      () => this.metrics.watchOverflows.inc(),
    );
    response.on('close', () => this.hub.release(session));
    this.metrics.watchers.inc();
    response.on('close', () => this.metrics.watchers.dec());
    const joined = await this.hub.join(session, from.index, () => session.isOpen);
    if (joined.status === 'closed') return;
    if (joined.status === 'joined') return session.start();
    if (joined.status === 'compacted') {
      const compacted = {
        compactedIndex: joined.compactedIndex,
        resyncFrom: joined.compactedIndex,
      };
      if (session.started) return session.compacted(compacted);
      writeProblem(response, 410, {
        type: 'watch-compacted',
        title: 'Gone',
        status: 410,
        detail: `the events after index ${from.index} are no longer retained; read the state again and watch from ${compacted.resyncFrom}`,
        ...compacted,
      });
      return;
    }
    if (session.started) return session.close();
    response.setHeader('Retry-After', '1');
    writeProblem(response, 503, {
      type: 'about:blank',
      title: 'Service Unavailable',
      status: 503,
      detail: joined.detail,
    });
  }
}

/** Fastify's reply: the socket's response is `raw`, and `hijack()` takes it over from Fastify. */
interface HijackableReply {
  raw: ServerResponse;
  hijack(): unknown;
}

function rawResponseOf(answer: ServerResponse | HijackableReply): ServerResponse {
  if (!('raw' in answer)) return answer;
  answer.hijack();
  return answer.raw;
}

function writeProblem(response: ServerResponse, status: number, body: Record<string, unknown>) {
  response.statusCode = status;
  response.setHeader('Content-Type', 'application/problem+json; charset=utf-8');
  response.end(JSON.stringify(body));
}
