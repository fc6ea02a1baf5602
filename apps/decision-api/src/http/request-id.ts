import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;
const logger = new Logger('Http');

/**
 * Gives every request an id (the caller's `X-Request-Id` when it is sane, else a new one),
 * echoes it, passes it to command-log with the command, and writes one access line per request
 * when it ends: method, path, status, milliseconds and the id — never headers or bodies, so no
 * key or secret reaches the log.
 */
export function requestIdMiddleware(
  request: {
    method: string;
    originalUrl: string;
    headers: Record<string, string | string[] | undefined>;
  },
  response: {
    setHeader(name: string, value: string): void;
    statusCode: number;
    on(event: 'finish', fn: () => void): void;
  },
  next: () => void,
): void {
  const given = request.headers['x-request-id'];
  const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
  request.headers['x-request-id'] = id;
  response.setHeader('X-Request-Id', id);
  // With access lines below the configured level (PARLEY_LOG_LEVEL warn or error), a listener,
  // a clock reading and a line per request would only be thrown away.
  if (!Logger.isLevelEnabled('log')) return next();
  const started = process.hrtime.bigint();
  response.on('finish', () => {
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const path = request.originalUrl.split('?')[0].slice(0, 200);
    logger.log(`${request.method} ${path} ${response.statusCode} ${ms.toFixed(1)}ms request=${id}`);
  });
  next();
}
