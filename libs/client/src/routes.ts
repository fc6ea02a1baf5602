import { BODIES } from '@parley/decision-api-contract';
import type { Safety } from './retry-policy';

/**
 * Every decision-api route the client calls, in one table: method, path (OpenAPI's `{param}`
 * form), the contract's body schema and how safe it is to send twice. The typed methods are
 * built on it, and test/static/client-routes.spec.ts checks it against the server's controllers
 * route by route (and body by body), so a route added, moved or dropped on either side fails.
 */
export interface RouteSpec {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  path: string;
  /** The request body's schema in the contract (BODIES), when the route takes one. */
  body?: keyof typeof BODIES;
  safety: Safety;
  /**
   * A strong write: its requestId goes in the body (or, for a route without one, in the
   * Idempotency-Key header), and it may be sent with `Prefer: respond-async`.
   */
  strong?: 'body' | 'header';
}

export const ROUTES = {
  'kv.get': { method: 'GET', path: '/v1/kv/{key}', safety: 'read' },
  'kv.put': {
    method: 'PUT',
    path: '/v1/kv/{key}',
    body: 'kvPut',
    safety: 'idempotent',
    strong: 'body',
  },
  'kv.delete': { method: 'DELETE', path: '/v1/kv/{key}', safety: 'idempotent', strong: 'header' },
  'inventory.get': { method: 'GET', path: '/v1/inventory/{sku}', safety: 'read' },
  'inventory.restock': {
    method: 'POST',
    path: '/v1/inventory/{sku}/restock',
    body: 'restock',
    safety: 'idempotent',
    strong: 'body',
  },
  'inventory.reserve': {
    method: 'POST',
    path: '/v1/inventory/{sku}/reservations',
    body: 'reserve',
    safety: 'idempotent',
    strong: 'body',
  },
  'inventory.release': {
    method: 'DELETE',
    path: '/v1/inventory/{sku}/reservations/{orderId}',
    safety: 'idempotent',
    strong: 'header',
  },
  'budgets.get': { method: 'GET', path: '/v1/budgets/{campaign}', safety: 'read' },
  'budgets.set': {
    method: 'PUT',
    path: '/v1/budgets/{campaign}',
    body: 'budgetSet',
    safety: 'idempotent',
    strong: 'body',
  },
  'budgets.spend': {
    method: 'POST',
    path: '/v1/budgets/{campaign}/spend',
    body: 'spend',
    safety: 'idempotent',
    strong: 'body',
  },
  'proposals.create': {
    method: 'POST',
    path: '/v1/proposals',
    body: 'propose',
    safety: 'idempotent',
    strong: 'body',
  },
  'proposals.vote': {
    method: 'POST',
    path: '/v1/proposals/{id}/votes',
    body: 'vote',
    safety: 'idempotent',
    strong: 'body',
  },
  'proposals.get': { method: 'GET', path: '/v1/proposals/{id}', safety: 'read' },
  // A counter increment has no idempotency key: sent twice, it counts twice.
  'counters.increment': {
    method: 'POST',
    path: '/v1/counters/{name}/increment',
    body: 'increment',
    safety: 'unsafe',
  },
  'counters.get': { method: 'GET', path: '/v1/counters/{name}', safety: 'read' },
  // An OR-set add or remove and a flag write land the same however often they are sent.
  'sets.add': {
    method: 'POST',
    path: '/v1/sets/{name}/elements',
    body: 'element',
    safety: 'idempotent',
  },
  'sets.remove': {
    method: 'DELETE',
    path: '/v1/sets/{name}/elements/{element}',
    safety: 'idempotent',
  },
  'sets.get': { method: 'GET', path: '/v1/sets/{name}', safety: 'read' },
  'flags.set': { method: 'PUT', path: '/v1/flags/{name}', body: 'flag', safety: 'idempotent' },
  'flags.get': { method: 'GET', path: '/v1/flags/{name}', safety: 'read' },
  'cluster.get': { method: 'GET', path: '/v1/cluster', safety: 'read' },
  // Operators' actions: retried only when no server can have seen them.
  'cluster.transferLeadership': {
    method: 'POST',
    path: '/v1/cluster/transfer-leadership',
    body: 'transfer',
    safety: 'unsafe',
  },
  'cluster.addMember': {
    method: 'POST',
    path: '/v1/cluster/members',
    body: 'member',
    safety: 'unsafe',
  },
  'cluster.removeMember': { method: 'DELETE', path: '/v1/cluster/members/{id}', safety: 'unsafe' },
  // Another snapshot is harmless: retried like an idempotent write.
  'cluster.snapshot': { method: 'POST', path: '/v1/cluster/snapshot', safety: 'idempotent' },
  'agents.list': { method: 'GET', path: '/v1/agents', safety: 'read' },
  watch: { method: 'GET', path: '/v1/watch', safety: 'read' },
  'requests.get': { method: 'GET', path: '/v1/requests/{requestId}', safety: 'read' },
} as const satisfies Record<string, RouteSpec>;

export type RouteName = keyof typeof ROUTES;

/** The routes that take `Prefer: respond-async` (strong writes). */
export type StrongWriteRoute = {
  [R in RouteName]: (typeof ROUTES)[R] extends { strong: string } ? R : never;
}[RouteName];

/** `{key: string}` for `/v1/kv/{key}`: a route's path parameters, from its template. */
export type PathParams<Path extends string> = Path extends `${string}{${infer Name}}${infer Rest}`
  ? { [K in Name | keyof PathParams<Rest>]: string }
  : // eslint-disable-next-line @typescript-eslint/no-empty-object-type
    {};

export type RouteParams<R extends RouteName> = PathParams<(typeof ROUTES)[R]['path']>;

/** The path of `route` with its parameters filled in (each one URL-encoded). */
export function routePath(route: RouteName, params: Record<string, string>): string {
  return ROUTES[route].path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined || value === '')
      throw new TypeError(`${route}: the path parameter ${name} is required`);
    return encodeURIComponent(value);
  });
}
