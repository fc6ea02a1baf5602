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

/** Every error leaves as `application/problem+json`; a bug is a 500 without internals. */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  catch(thrown: unknown, host: ArgumentsHost): void {
    const request = host.switchToHttp().getRequest<{ url: string }>();
    sendProblem(host.switchToHttp().getResponse<ProblemResponse>(), thrown, request.url);
  }
}

/** What a problem is written to: Express's response and Fastify's reply both have these. */
export interface ProblemResponse {
  status(code: number): unknown;
  header(name: string, value: string): unknown;
  send(body: string): unknown;
}

const logger = new Logger('Problem');

/** Answers `thrown` (for the request to `url`) as a problem. */
export function sendProblem(response: ProblemResponse, thrown: unknown, url: string): void {
  const error = thrown instanceof ClusterRefused ? problemFor(thrown.outcome) : thrown;
  let status: number = HttpStatus.INTERNAL_SERVER_ERROR;
  let title = 'Internal Server Error';
  let detail: string | undefined;
  let extra: Problem['extra'] = {};
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
  } else if ((error as { type?: string })?.type === 'entity.parse.failed') {
    status = 400;
    title = TITLES[400];
    detail = 'the request body is not valid JSON';
  } else {
    logger.error(`unhandled error on ${url}: ${(error as Error)?.stack ?? String(error)}`);
  }
  if (extra.retryAfterSeconds !== undefined)
    response.header('Retry-After', String(extra.retryAfterSeconds));
  response.status(status);
  response.header('Content-Type', 'application/problem+json; charset=utf-8');
  response.send(
    JSON.stringify({
      type: extra.type ?? 'about:blank',
      title,
      status,
      ...(detail ? { detail } : {}),
      ...(extra.errors ? { errors: extra.errors } : {}),
      instance: url,
    }),
  );
}
