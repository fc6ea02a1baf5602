import {
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import { ClusterRefused } from '../cluster-client/outcomes';
import { problemFor } from './outcome-to-problem';

/**
 * An RFC 9457 problem: what went wrong, for the client, with every bad field named. `type`
 * names a problem a client may act on (e.g. `reconfiguration-unsafe`); otherwise about:blank.
 */
export class Problem extends HttpException {
  constructor(
    status: number,
    title: string,
    readonly detail?: string,
    readonly extra: { errors?: string[]; retryAfterSeconds?: number; type?: string } = {},
  ) {
    super({ title, detail }, status);
  }

  /** One line for logs and dead letters: status, type and detail. */
  describe(): string {
    const type = this.extra.type ? ` ${this.extra.type}` : '';
    return `${this.getStatus()}${type}: ${this.detail ?? (this.getResponse() as { title: string }).title}`;
  }
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Content Too Large',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/**
 * An answer a handler gives before its work is done (202 to `Prefer: respond-async`): thrown so
 * that it leaves whatever the route's own success status is, and written as it is, not as a
 * problem.
 */
export class EarlyAnswer extends HttpException {
  constructor(
    status: number,
    readonly headers: Record<string, string>,
    readonly body: Record<string, unknown>,
  ) {
    super(body, status);
  }
}

/** An answer as status, headers, content type and JSON body, to write now or keep for later. */
export interface RenderedAnswer {
  status: number;
  headers: Record<string, string>;
  contentType: 'application/json' | 'application/problem+json';
  body: Record<string, unknown>;
}

/**
 * The problem answer for whatever was thrown while serving `instance` (the request's URL); a
 * bug is a 500 without internals (`unexpected` says so, for the caller to log).
 */
export function renderProblem(
  thrown: unknown,
  instance: string,
): RenderedAnswer & { unexpected: boolean } {
  const error = thrown instanceof ClusterRefused ? problemFor(thrown.outcome) : thrown;
  let status: number = HttpStatus.INTERNAL_SERVER_ERROR;
  let title = 'Internal Server Error';
  let detail: string | undefined;
  let extra: Problem['extra'] = {};
  let unexpected = false;
  if (error instanceof Problem) {
    status = error.getStatus();
    ({ title, detail } = error.getResponse() as { title: string; detail?: string });
    extra = error.extra;
  } else if (
    // the body parser's: too large (Express's own error; Fastify's arrives as a 413)
    (error as { type?: string })?.type === 'entity.too.large' ||
    (error instanceof HttpException && error.getStatus() === 413)
  ) {
    status = 413;
    title = TITLES[413];
    detail = 'the request body is larger than allowed';
  } else if (error instanceof HttpException) {
    status = error.getStatus();
    title = TITLES[status] ?? error.name;
    const body = error.getResponse();
    detail =
      typeof body === 'string' ? body : String((body as { message?: unknown }).message ?? '');
    // body-parser's own error: not JSON
  } else if ((error as { type?: string })?.type === 'entity.parse.failed') {
    status = 400;
    title = TITLES[400];
    detail = 'the request body is not valid JSON';
  } else {
    unexpected = true;
  }
  return {
    status,
    headers:
      extra.retryAfterSeconds === undefined
        ? {}
        : { 'Retry-After': String(extra.retryAfterSeconds) },
    contentType: 'application/problem+json',
    body: {
      type: extra.type ?? 'about:blank',
      title,
      status,
      ...(detail ? { detail } : {}),
      ...(extra.errors ? { errors: extra.errors } : {}),
      instance,
    },
    unexpected,
  };
}

/** What an answer is written to: Express's response and Fastify's reply both have these. */
export interface ProblemResponse {
  status(code: number): unknown;
  header(name: string, value: string): unknown;
  send(body: string): unknown;
}

/** Writes a rendered answer on an Express response or a Fastify reply. */
export function writeAnswer(response: ProblemResponse, answer: RenderedAnswer): void {
  for (const [name, value] of Object.entries(answer.headers)) response.header(name, value);
  response.status(answer.status);
  response.header('Content-Type', `${answer.contentType}; charset=utf-8`);
  response.send(JSON.stringify(answer.body));
}

const logger = new Logger('Problem');

/** Answers `thrown` (for the request to `url`) as a problem; a bug is logged, never shown. */
export function sendProblem(response: ProblemResponse, thrown: unknown, url: string): void {
  const answer = renderProblem(thrown, url);
  if (answer.unexpected)
    logger.error(`unhandled error on ${url}: ${(thrown as Error)?.stack ?? String(thrown)}`);
  writeAnswer(response, answer);
}

/** Every error leaves as `application/problem+json`; a bug is a 500 without internals. */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  catch(thrown: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<ProblemResponse>();
    const request = host.switchToHttp().getRequest<{ url: string }>();
    if (thrown instanceof EarlyAnswer) {
      writeAnswer(response, {
        status: thrown.getStatus(),
        headers: thrown.headers,
        contentType: 'application/json',
        body: thrown.body,
      });
      return;
    }
    sendProblem(response, thrown, request.url);
  }
}
