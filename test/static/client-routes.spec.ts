import 'reflect-metadata';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { RequestMethod } from '@nestjs/common';
import { ROUTES } from '@parley/client';
import { BODIES, openApiSchema } from '@parley/decision-api-contract';
import { decisionApiConfigSchema } from '../../apps/decision-api/src/config';
import { DecisionApiModule } from '../../apps/decision-api/src/decision-api.module';

/**
 * @parley/client and decision-api must not drift: every /v1 route the server's controllers serve
 * (the ones its OpenAPI document is generated from) has a client method and the client calls no
 * route the server lacks; a route's body is the same contract schema on both sides, and the
 * routes the client treats as strong writes (requestId, respond-async) are the ones the server
 * documents an Idempotency-Key for.
 */
interface ServedRoute {
  route: string;
  body?: unknown;
  idempotencyKey: boolean;
}

/** @nestjs/swagger's metadata keys (its constants module is not exported). */
const API_PARAMETERS = 'swagger/apiParameters';

/** Served for the dashboard page, not for agents. */
const NOT_FOR_CLIENTS = new Set(['GET /v1/dashboard/events']);

function servedRoutes(): ServedRoute[] {
  const config = decisionApiConfigSchema.parse({
    PARLEY_API_KEYS: 'agent:0123456789abcdef0123',
    PARLEY_RPC_SECRET: 'x'.repeat(32),
    PARLEY_COMMAND_LOG_NODES: '127.0.0.1:1',
  });
  const controllers = DecisionApiModule.register(config as never).controllers ?? [];
  const routes: ServedRoute[] = [];
  for (const controller of controllers) {
    const prefix = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
    for (const name of Object.getOwnPropertyNames(controller.prototype)) {
      const handler = controller.prototype[name];
      if (typeof handler !== 'function') continue;
      const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
      if (method === undefined) continue;
      const paths = [Reflect.getMetadata(PATH_METADATA, handler) as string | string[]].flat();
      const parameters = (Reflect.getMetadata(API_PARAMETERS, handler) ?? []) as {
        in: string;
        name?: string;
        schema?: unknown;
      }[];
      for (const path of paths) {
        const full = `/${[prefix, path].filter((p) => p && p !== '/').join('/')}`
          .replace(/\/+/g, '/')
          .replace(/:(\w+)/g, '{$1}');
        routes.push({
          route: `${RequestMethod[method]} ${full}`,
          body: parameters.find((p) => p.in === 'body')?.schema,
          idempotencyKey: parameters.some((p) => p.in === 'header' && p.name === 'Idempotency-Key'),
        });
      }
    }
  }
  return routes.filter(
    (r) => r.route.split(' ')[1].startsWith('/v1/') && !NOT_FOR_CLIENTS.has(r.route),
  );
}

const clientRoutes = Object.entries(ROUTES).map(([name, spec]) => ({
  name,
  route: `${spec.method} ${spec.path}`,
  spec,
}));

describe('@parley/client against the server it calls', () => {
  const served = servedRoutes();

  it('reads the served routes from the controllers', () => {
    expect(served.map((r) => r.route)).toContain('POST /v1/inventory/{sku}/reservations');
    expect(served.length).toBeGreaterThan(20);
  });

  it('has a method for every route the server serves, and calls no route the server lacks', () => {
    expect(clientRoutes.map((r) => r.route).sort()).toEqual(served.map((r) => r.route).sort());
  });

  it('sends each route the body schema the server validates and documents', () => {
    for (const { route, spec } of clientRoutes) {
      const server = served.find((r) => r.route === route);
      const expected = 'body' in spec ? openApiSchema(BODIES[spec.body].documented) : undefined;
      expect({ route, body: server?.body }).toEqual({ route, body: expected });
    }
  });

  it('treats as strong writes (requestId, respond-async) exactly the routes with an Idempotency-Key', () => {
    const strongOnClient = clientRoutes.filter((r) => 'strong' in r.spec).map((r) => r.route);
    const strongOnServer = served.filter((r) => r.idempotencyKey).map((r) => r.route);
    expect(strongOnClient.sort()).toEqual(strongOnServer.sort());
  });
});
