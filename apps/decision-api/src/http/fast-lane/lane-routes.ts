import { PipeTransform, RequestMethod, Type } from '@nestjs/common';
import {
  CUSTOM_ROUTE_ARGS_METADATA,
  EXCEPTION_FILTERS_METADATA,
  GUARDS_METADATA,
  HEADERS_METADATA,
  HTTP_CODE_METADATA,
  INTERCEPTORS_METADATA,
  METHOD_METADATA,
  PATH_METADATA,
  PIPES_METADATA,
  REDIRECT_METADATA,
  RENDER_METADATA,
  RESPONSE_PASSTHROUGH_METADATA,
  ROUTE_ARGS_METADATA,
  SSE_METADATA,
} from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';

/** A custom parameter decorator's factory (createParamDecorator), as Nest calls it. */
export type ArgFactory = (data: unknown, context: unknown) => unknown;

/**
 * Where one argument of a handler comes from, as its Nest parameter decorator says, and the
 * pipe instances that parameter runs its value through (in order, as Nest does).
 */
export type ArgSource = (
  | { from: 'body' | 'params' | 'query' | 'headers'; name?: string }
  | { from: 'custom'; factory: ArgFactory; data: unknown }
  | { from: 'response' }
) & { pipes?: PipeTransform[] };

/** One controller route the fast lane may serve, read from the metadata Nest routes by. */
export interface LaneRoute {
  method: string;
  /** As Express reports it in `request.route.path`, e.g. `/v1/kv/:key` (the metrics label). */
  path: string;
  pattern: RegExp;
  paramNames: string[];
  /** The status of a successful answer (`@HttpCode`, else 201 for POST and 200 otherwise). */
  status: number;
  takesBody: boolean;
  controller: Type;
  /** The prototype method: guards read their metadata (roles, throttling) from it. */
  handler: (...args: unknown[]) => unknown;
  instance: object;
  args: ArgSource[];
}

const SEGMENT = /^(?::[A-Za-z][A-Za-z0-9]*|[A-Za-z0-9._-]+)$/;

/** Per-route decorators the lane does not reproduce: a route carrying one stays on Express. */
const UNSUPPORTED = [
  GUARDS_METADATA,
  INTERCEPTORS_METADATA,
  PIPES_METADATA,
  EXCEPTION_FILTERS_METADATA,
  HEADERS_METADATA,
  REDIRECT_METADATA,
  RENDER_METADATA,
  SSE_METADATA,
];

const SOURCES: Partial<Record<RouteParamtypes, 'body' | 'params' | 'query' | 'headers'>> = {
  [RouteParamtypes.BODY]: 'body',
  [RouteParamtypes.PARAM]: 'params',
  [RouteParamtypes.QUERY]: 'query',
  [RouteParamtypes.HEADERS]: 'headers',
};

/**
 * The routes of these controller instances that the fast lane can serve exactly as Nest would:
 * the path, method, status and arguments come from the same decorators Nest reads, so there is
 * one source for a route. A route using anything else (its own guard or pipe, `@Req`, a
 * non-passthrough `@Res`, a wildcard path) is left out and keeps going through Express.
 */
export function laneRoutes(instances: object[]): LaneRoute[] {
  const routes: LaneRoute[] = [];
  for (const instance of instances) {
    const controller = instance.constructor as Type;
    const prefix = Reflect.getMetadata(PATH_METADATA, controller) as string | undefined;
    if (typeof prefix !== 'string' || UNSUPPORTED.some((key) => hasMetadata(key, controller)))
      continue;
    const prototype = controller.prototype as Record<string, unknown>;
    for (const name of Object.getOwnPropertyNames(prototype)) {
      const handler = prototype[name];
      if (name === 'constructor' || typeof handler !== 'function') continue;
      const route = laneRoute(instance, controller, name, prefix, handler as LaneRoute['handler']);
      if (route) routes.push(route);
    }
  }
  return routes;
}

function laneRoute(
  instance: object,
  controller: Type,
  name: string,
  prefix: string,
  handler: LaneRoute['handler'],
): LaneRoute | undefined {
  const verb = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
  const own = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
  if (verb === undefined || typeof own !== 'string') return undefined;
  const method = RequestMethod[verb];
  if (!['GET', 'POST', 'PUT', 'DELETE', 'PATCH'].includes(method)) return undefined;
  if (UNSUPPORTED.some((key) => hasMetadata(key, handler))) return undefined;
  const segments = [prefix, own].flatMap((part) => part.split('/')).filter((s) => s !== '');
  if (!segments.every((segment) => SEGMENT.test(segment))) return undefined;
  const args = argumentsOf(controller, name);
  if (!args) return undefined;
  const paramNames = segments.filter((s) => s.startsWith(':')).map((s) => s.slice(1));
  const pattern = new RegExp(
    `^/${segments.map((s) => (s.startsWith(':') ? '([^/]+)' : escape(s))).join('/')}$`,
  );
  const code = Reflect.getMetadata(HTTP_CODE_METADATA, handler) as number | undefined;
  return {
    method,
    path: `/${segments.join('/')}`,
    pattern,
    paramNames,
    status: code ?? (method === 'POST' ? 201 : 200),
    takesBody: args.some((arg) => arg.from === 'body'),
    controller,
    handler,
    instance,
    args,
  };
}

/** The handler's arguments in order, or undefined when one comes from a source not served. */
function argumentsOf(controller: Type, name: string): ArgSource[] | undefined {
  const declared = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, name) ?? {}) as Record<
    string,
    { index: number; data?: unknown; pipes?: unknown[]; factory?: unknown }
  >;
  const args: ArgSource[] = [];
  for (const [key, { index, data, pipes = [], factory }] of Object.entries(declared)) {
    const type = Number(key.split(':')[0]) as RouteParamtypes;
    // A pipe given as an instance runs as it is; one given as a class Nest would build with
    // its injector, which the lane does not have.
    if (!pipes.every(isPipeInstance)) return undefined;
    const piped = pipes.length > 0 ? { pipes } : {};
    if (key.includes(CUSTOM_ROUTE_ARGS_METADATA)) {
      if (typeof factory !== 'function') return undefined;
      args[index] = { from: 'custom', factory: factory as ArgFactory, data, ...piped };
      continue;
    }
    if (type === RouteParamtypes.RESPONSE) {
      if (pipes.length > 0) return undefined;
      if (!Reflect.getMetadata(RESPONSE_PASSTHROUGH_METADATA, controller, name)) return undefined;
      args[index] = { from: 'response' };
      continue;
    }
    const from = SOURCES[type];
    if (!from || (data !== undefined && typeof data !== 'string')) return undefined;
    args[index] = data === undefined ? { from, ...piped } : { from, name: data, ...piped };
  }
  // A parameter without a decorator between decorated ones: rare enough to leave to Nest.
  for (let i = 0; i < args.length; i++) if (!args[i]) return undefined;
  return args;
}

function isPipeInstance(pipe: unknown): pipe is PipeTransform {
  return typeof (pipe as PipeTransform | null)?.transform === 'function';
}

function hasMetadata(key: string, target: object): boolean {
  const value: unknown = Reflect.getMetadata(key, target);
  return Array.isArray(value) ? value.length > 0 : value !== undefined;
}

function escape(literal: string): string {
  return literal.replace(/[.]/g, '\\.');
}
