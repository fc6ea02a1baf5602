import { CanActivate, INestApplication, Type } from '@nestjs/common';
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
  const lane = new FastLane({
    routes: laneRoutes(setup.controllers.map((controller) => app.get(controller) as object)),
    express: adapter.getInstance() as ExpressParts,
    middleware: setup.middleware,
    guards: setup.guards.map((guard) => app.get(guard)),
    filter: app.get(ProblemFilter),
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
