import {
  ArgumentMetadata,
  BadRequestException,
  CanActivate,
  ExceptionFilter,
  ForbiddenException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isObservable, lastValueFrom } from 'rxjs';
import { prefersRespondAsync } from '../prefer';
import { ArgSource, LaneRoute } from './lane-routes';

type Next = (error?: unknown) => void;
const logger = new Logger('FastLane');
/** An Express middleware, as `app.use` takes it. */
export type Middleware = (request: never, response: never, next: Next) => void;

/** The parts of the Express application the lane borrows. */
export interface ExpressParts {
  /** The prototypes Express gives requests and responses (the lane's answers to errors use them). */
  request: object;
  response: object;
  get(setting: string): unknown;
}

export interface FastLaneParts {
  routes: LaneRoute[];
  express: ExpressParts;
  /** What Express runs before routing, in the same order (request id, …, body parser). */
  middleware: Middleware[];
  /** The global guards, in the order Nest runs them. */
  guards: CanActivate[];
  /** The global exception filter: every error leaves exactly as it does through Nest. */
  filter: ExceptionFilter;
  /** The HTTP adapter's reply: the same serialisation as Nest's. */
  reply(response: unknown, body: unknown, status: number): unknown;
  /** Called for each request the lane takes (a metric). */
  onTaken?: () => void;
}

interface LaneRequest extends IncomingMessage {
  params: Record<string, string>;
  route: { path: string };
  body?: unknown;
  query: Record<string, unknown>;
  ip?: string;
  originalUrl: string;
  baseUrl: string;
  res: ServerResponse;
  next: Next;
}

/**
 * A short way through for the decision routes: the same middleware, guards, controller method
 * and exception filter Nest would run, in the same order, on the plain node:http request and
 * response. What it leaves out is per-request machinery: walking Express's router layer by
 * layer, Nest's per-route execution context, and turning every request and response into
 * Express objects (a prototype swap per request) — a successful answer is written directly, as
 * Express's `res.json` would write it. Only an error answer borrows Express's response (the
 * exception filter is written for it). Anything the lane does not recognise exactly — a
 * trailing slash, other letter case, a badly encoded parameter, HEAD, an unknown route — goes
 * to Express untouched, so Express stays the reference for every edge.
 * Measured against Express and Fastify side by side (npm run bench:http-platforms): see
 * docs/benchmarks.md.
 */
export class FastLane {
  private readonly byMethod = new Map<string, LaneRoute[]>();
  private readonly parseQuery: (search: string) => Record<string, unknown>;

  constructor(private readonly parts: FastLaneParts) {
    const parser = parts.express.get('query parser fn');
    this.parseQuery =
      typeof parser === 'function'
        ? (parser as (search: string) => Record<string, unknown>)
        : () => ({});
    for (const route of parts.routes) {
      const list = this.byMethod.get(route.method) ?? [];
      list.push(route);
      this.byMethod.set(route.method, list);
    }
  }

  /** Serves the request and returns true, or returns false having touched nothing. */
  take(request: IncomingMessage, response: ServerResponse): boolean {
    const candidates = this.byMethod.get(request.method ?? '');
    if (!candidates) return false;
    // Accept-now answers (202, thrown past the route's status) are Express's to write.
    if (prefersRespondAsync(request.headers.prefer)) return false;
    const url = request.url ?? '';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    for (const route of candidates) {
      const match = route.pattern.exec(path);
      if (!match) continue;
      const params = decodeParams(route.paramNames, match);
      if (!params) return false;
      const laneRequest = request as LaneRequest;
      const parsed = this.queryOf(query === -1 ? '' : url.slice(query + 1));
      if (!parsed) return false;
      laneRequest.query = parsed;
      this.parts.onTaken?.();
      this.serve(route, params, laneRequest, response).catch((error: unknown) =>
        // Only the exception filter itself failing gets here; never leave the client hanging.
        failed(response, error),
      );
      return true;
    }
    return false;
  }

  /** Express's own query parser; a query it cannot parse is left to Express to answer. */
  private queryOf(search: string): Record<string, unknown> | undefined {
    try {
      return this.parseQuery(search);
    } catch {
      return undefined;
    }
  }

  private async serve(
    route: LaneRoute,
    params: Record<string, string>,
    request: LaneRequest,
    response: ServerResponse,
  ): Promise<void> {
    const next: Next = () => undefined;
    request.originalUrl = request.url ?? '';
    request.baseUrl = '';
    request.next = next;
    request.params = params;
    // Express's req.ip without a trusted proxy: the socket's address.
    request.ip = request.socket.remoteAddress;
    const context = new ExecutionContextHost(
      [request, response, next],
      route.controller,
      route.handler,
    );
    context.setType('http');
    try {
      for (const middleware of this.parts.middleware) await run(middleware, request, response);
      // Matched only now, as in Express, whose router runs after the middleware: an answer the
      // middleware gave (a body that does not parse) is not the route's.
      request.route = { path: route.path };
      for (const guard of this.parts.guards) {
        const verdict = guard.canActivate(context);
        const allowed = isObservable(verdict) ? await lastValueFrom(verdict) : await verdict;
        if (!allowed) throw new ForbiddenException('Forbidden resource');
      }
      const args: unknown[] = [];
      for (const arg of route.args) args.push(await argument(arg, request, response, context));
      const body: unknown = await route.handler.apply(route.instance, args);
      if (typeof body === 'object' && body !== null) writeJson(response, route.status, body);
      else {
        this.dress(request, response);
        this.parts.reply(response, body, route.status);
      }
    } catch (error) {
      this.dress(request, response);
      this.parts.filter.catch(asNestWouldSee(error), context);
    }
  }

  /** Makes them the Express request and response the filter and the adapter are written for. */
  private dress(request: LaneRequest, response: ServerResponse): void {
    const linked = response as ServerResponse & { req: LaneRequest; locals?: object };
    request.res = response;
    linked.req = request;
    Object.setPrototypeOf(request, this.parts.express.request);
    Object.setPrototypeOf(response, this.parts.express.response);
    linked.locals ??= Object.create(null) as object;
  }
}

function failed(response: ServerResponse, error: unknown): void {
  logger.error(
    `the fast lane's exception filter failed: ${(error as Error)?.stack ?? String(error)}`,
  );
  if (response.headersSent) response.destroy();
  else {
    response.statusCode = 500;
    response.end();
  }
}

/** What Express's `res.json` writes for an object (no ETag: decision-api turns it off). */
function writeJson(response: ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body);
  response.statusCode = status;
  if (!response.hasHeader('Content-Type'))
    response.setHeader('Content-Type', 'application/json; charset=utf-8');
  response.setHeader('Content-Length', Buffer.byteLength(text));
  response.end(text);
}

function run(middleware: Middleware, request: LaneRequest, response: ServerResponse) {
  return new Promise<void>((resolve, reject) =>
    middleware(request as never, response as never, (error?: unknown) =>
      error === undefined || error === null ? resolve() : reject(error as Error),
    ),
  );
}

/** An argument's value run through its pipes, as Nest passes them the value and its origin. */
async function argument(
  arg: ArgSource,
  request: LaneRequest,
  response: ServerResponse,
  context: ExecutionContextHost,
): Promise<unknown> {
  let value = source(arg, request, response, context);
  if (!arg.pipes) return value;
  const metadata = {
    type: arg.from === 'params' ? 'param' : arg.from,
    data: 'name' in arg ? arg.name : 'data' in arg ? arg.data : undefined,
  } as ArgumentMetadata;
  for (const pipe of arg.pipes) value = await pipe.transform(value, metadata);
  return value;
}

function source(
  arg: ArgSource,
  request: LaneRequest,
  response: ServerResponse,
  context: ExecutionContextHost,
): unknown {
  switch (arg.from) {
    case 'custom':
      return arg.factory(arg.data, context);
    case 'response':
      return response;
    case 'body':
      return arg.name === undefined ? request.body : bodyField(request.body, arg.name);
    case 'params':
      return arg.name === undefined ? request.params : request.params[arg.name];
    case 'query':
      return arg.name === undefined ? request.query : request.query[arg.name];
    case 'headers':
      return arg.name === undefined ? request.headers : request.headers[arg.name.toLowerCase()];
  }
}

/** As Nest picks a body field: only an own property of anything but a plain object. */
function bodyField(body: unknown, name: string): unknown {
  if (!body) return body;
  if (typeof body === 'object' && !Array.isArray(body) && !ArrayBuffer.isView(body))
    return (body as Record<string, unknown>)[name];
  return Object.prototype.hasOwnProperty.call(Object(body), name)
    ? (body as Record<string, unknown>)[name]
    : undefined;
}

/** Express decodes path parameters with decodeURIComponent; a bad escape is Express's 400. */
function decodeParams(names: string[], match: RegExpExecArray): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  try {
    names.forEach((name, i) => (params[name] = decodeURIComponent(match[i + 1])));
  } catch {
    return undefined;
  }
  return params;
}

/** Nest's mapping of errors from Express middleware: body-parser's bad JSON becomes a 400. */
function asNestWouldSee(error: unknown): unknown {
  const status = (error as { status?: unknown } | null)?.status;
  if (
    (error instanceof SyntaxError || error instanceof URIError) &&
    status === HttpStatus.BAD_REQUEST
  )
    return new BadRequestException(error.message);
  return error;
}
