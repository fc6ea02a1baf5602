import { CanActivate, ExceptionFilter, INestApplication, Type } from '@nestjs/common';
import { ApplicationConfig } from '@nestjs/core';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { ProblemFilter } from '../problem';
import { ExpressParts, FastLane, Middleware } from './fast-lane';
import { laneRoutes } from './lane-routes';

type RequestListener = (request: IncomingMessage, response: ServerResponse) => void;

export interface FastLaneSetup {
  /** The controllers whose routes the lane serves. */
  controllers: Type[];
  /** The global guards, in the order they are registered with APP_GUARD. */
  guards: Type<CanActivate>[];
  /** The middleware Express runs before routing, in the order it runs them. */
  middleware: Middleware[];
  /** Called for each request the lane takes. */
  onTaken?: () => void;
}

/**
 * Puts the fast lane in front of Express on the app's HTTP server: a request it recognises is
 * served there, any other goes on to Express as before. Run after the app is created (its
 * controllers and guards exist) and before it listens.
 */
export function installFastLane(app: INestApplication, setup: FastLaneSetup): FastLane {
  const adapter = app.getHttpAdapter();
  const guards = setup.guards.map((guard) => app.get(guard));
  const filter = app.get(ProblemFilter);
  assertNothingSkipped(app.get(ApplicationConfig), guards, filter);
  const lane = new FastLane({
    routes: laneRoutes(setup.controllers.map((controller) => app.get(controller) as object)),
    express: adapter.getInstance() as ExpressParts,
    middleware: setup.middleware,
    guards,
    filter,
    reply: (response, body, status) => adapter.reply(response, body, status),
    onTaken: setup.onTaken,
  });
  const server = app.getHttpServer() as Server;
  const throughExpress = server.listeners('request') as RequestListener[];
  if (throughExpress.length !== 1)
    throw new Error(`expected one request listener (Express), found ${throughExpress.length}`);
  server.removeAllListeners('request');
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    if (!lane.take(request, response)) throughExpress[0](request, response);
  });
  return lane;
}

/**
 * The lane runs the global guards and filter it is given and nothing else: a global pipe or
 * interceptor added later, or a guard it was not told about, would be skipped silently. Refuse
 * to start instead.
 */
export function assertNothingSkipped(
  config: ApplicationConfig,
  guards: CanActivate[],
  filter: ExceptionFilter,
): void {
  const problems: string[] = [];
  const same = (a: unknown[], b: unknown[]) =>
    a.length === b.length && a.every((item, i) => item === b[i]);
  if (!same(config.getGlobalGuards(), guards))
    problems.push('the global guards are not the ones given to it, in that order');
  if (!same(config.getGlobalFilters(), [filter]))
    problems.push('the global filters are not the one given to it');
  if (config.getGlobalPipes().length > 0) problems.push('there are global pipes');
  if (config.getGlobalInterceptors().length > 0) problems.push('there are global interceptors');
  if (
    config.getGlobalRequestGuards().length +
      config.getGlobalRequestFilters().length +
      config.getGlobalRequestPipes().length +
      config.getGlobalRequestInterceptors().length >
    0
  )
    problems.push('there are request-scoped global enhancers');
  if (problems.length > 0)
    throw new Error(`the fast lane would skip Nest's work: ${problems.join('; ')}`);
}
