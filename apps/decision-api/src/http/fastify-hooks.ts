import { INestApplication } from '@nestjs/common';
import type { UnroutableAnswer } from '@parley/app-kit';
import { Problem, sendProblem } from './problem';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { requestIdMiddleware } from './request-id';
import { requestMetrics } from '../metrics/request-metrics';

type Next = (error?: unknown) => void;

/** The per-request work decision-api does on every platform, as Express-style functions. */
export interface RequestParts {
  requestId: typeof requestIdMiddleware;
  metrics: ReturnType<typeof requestMetrics>;
  securityHeaders: (
    path: string,
  ) => (req: IncomingMessage, res: ServerResponse, next: Next) => void;
}

/**
 * On Fastify the same request id, access line, latency metric and security headers as on
 * Express, run from one `onRequest` hook on the raw request and response (Fastify merges
 * headers set there into its answer), so an answer — a refusal from a guard or the body parser
 * included — carries them whichever server produced it.
 */
export function installOnFastify(
  app: INestApplication,
  parts: RequestParts,
  answerUnroutable: (answer: UnroutableAnswer) => void,
): void {
  const fastify = app.getHttpAdapter().getInstance() as FastifyInstance;
  const ignore = () => undefined;
  const hook = (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void) => {
    parts.requestId(
      { method: request.method, originalUrl: request.url, headers: request.headers },
      reply.raw,
      ignore,
    );
    parts.metrics(timed(request), reply.raw, ignore);
    parts.securityHeaders(request.url)(request.raw, reply.raw, (error) =>
      done(error as Error | undefined),
    );
  };
  fastify.addHook('onRequest', hook);
  // A path that does not decode: the same headers and a 400 problem, as Express gives.
  answerUnroutable((error, request, reply) =>
    hook(request, reply, () =>
      sendProblem(reply, new Problem(400, 'Bad Request', error.message), request.url),
    ),
  );
}

/** What the latency metric reads, looked up when the answer is written (route, query). */
function timed(request: FastifyRequest) {
  return {
    method: request.method,
    url: request.url,
    get route() {
      const path = request.routeOptions.url;
      return path ? { path } : undefined;
    },
    get query() {
      return request.query as Record<string, unknown>;
    },
  };
}

const CONTENT_TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.png': 'image/png',
};

/**
 * The app as SwaggerModule sees it on Fastify: its UI files are served from the swagger-ui
 * folder by one route per prefix (only the files that folder holds), instead of by
 * @fastify/static, which Parley does not depend on for a handful of files.
 */
export function swaggerAppOnFastify(app: INestApplication): INestApplication {
  const fastify = app.getHttpAdapter().getInstance() as FastifyInstance;
  const useStaticAssets = ({ root, prefix }: { root: string; prefix: string }) => {
    const files = new Set(readdirSync(root));
    fastify.get(`${prefix}/:file`, (request, reply) => {
      const file = (request.params as { file: string }).file;
      const type = CONTENT_TYPES[extname(file)];
      if (!files.has(file) || !type) return reply.callNotFound();
      return reply.type(type).send(readFileSync(join(root, file)));
    });
    return app;
  };
  return new Proxy(app, {
    get(target, property) {
      if (property === 'useStaticAssets') return useStaticAssets;
      const value: unknown = Reflect.get(target, property);
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
    },
  });
}
