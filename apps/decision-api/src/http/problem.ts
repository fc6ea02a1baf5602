import {
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import type { Response } from 'express';

/**
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

/**
 * The answer to a command the state machine's session table refused (nothing was applied),
 * the same on every route: the request id reused with another body is 422, a retry past the
 * idempotency window 409, a full table 503 with Retry-After. Undefined for any other result.
 */
export function sessionRefusalProblem(result: Record<string, unknown>): Problem | undefined {
  if (result.status !== 'refused') return undefined;
  const requestId = String(result.requestId);
  switch (result.reason) {
    case 'idempotency-key-reuse':
      return new Problem(
        422,
        TITLES[422],
        `requestId ${requestId} was already used for a request with a different body; use a new requestId for a new request`,
        { type: 'idempotency-key-reuse' },
      );
    case 'idempotency-window-passed':
      return new Problem(
        409,
        TITLES[409],
        `requestId ${requestId} is older than the idempotency window (${Number(result.windowMs) / 1000} s of log time); it is not applied again`,
        { type: 'idempotency-window-passed' },
      );
    case 'idempotency-ids-full':
      return new Problem(
        503,
        TITLES[503],
        'the idempotency window holds as many request ids as it may; retry later',
        {
          type: 'idempotency-ids-full',
          retryAfterSeconds: Math.max(1, Math.ceil(Number(result.retryAfterMs) / 1000)),
        },
      );
    default:
      return new Problem(500, 'Internal Server Error', `unknown refusal ${String(result.reason)}`);
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
  private readonly logger = new Logger('Problem');

  catch(error: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const request = host.switchToHttp().getRequest<{ url: string }>();
    let status: number = HttpStatus.INTERNAL_SERVER_ERROR;
    let title = 'Internal Server Error';
    let detail: string | undefined;
    let extra: Problem['extra'] = {};
    if (error instanceof Problem) {
      status = error.getStatus();
      ({ title, detail } = error.getResponse() as { title: string; detail?: string });
      extra = error.extra;
    } else if (error instanceof HttpException) {
      status = error.getStatus();
      title = TITLES[status] ?? error.name;
      const body = error.getResponse();
      detail =
        typeof body === 'string' ? body : String((body as { message?: unknown }).message ?? '');
      // body-parser's own errors: too large or not JSON
    } else if ((error as { type?: string })?.type === 'entity.too.large') {
      status = 413;
      title = TITLES[413];
      detail = 'the request body is larger than allowed';
    } else if ((error as { type?: string })?.type === 'entity.parse.failed') {
      status = 400;
      title = TITLES[400];
      detail = 'the request body is not valid JSON';
    } else {
      this.logger.error(
        `unhandled error on ${request.url}: ${(error as Error)?.stack ?? String(error)}`,
      );
    }
    if (extra.retryAfterSeconds !== undefined)
      response.setHeader('Retry-After', String(extra.retryAfterSeconds));
    response
      .status(status)
      .type('application/problem+json')
      .json({
        type: extra.type ?? 'about:blank',
        title,
        status,
        ...(detail ? { detail } : {}),
        ...(extra.errors ? { errors: extra.errors } : {}),
        instance: request.url,
      });
  }
}
