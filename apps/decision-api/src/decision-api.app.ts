import { INestApplication } from '@nestjs/common';
import { AppDefinition } from '@parley/app-kit';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import helmet from 'helmet';
import { decisionApiConfigSchema } from './config';
import {
  DECISION_CONTROLLERS,
  DecisionApiModule,
  GLOBAL_GUARDS,
  LocalReplicas,
} from './decision-api.module';
import { installFastLane } from './http/fast-lane/install-fast-lane';
import { Middleware } from './http/fast-lane/fast-lane';
import { installOnFastify, swaggerAppOnFastify } from './http/fastify-hooks';
import { requestIdMiddleware } from './http/request-id';
import { Metrics } from './metrics/metrics';
import { requestMetrics } from './metrics/request-metrics';

/**
 * The decision-api app as `bootstrapApp` runs it: alone (main.ts), or as part of a node process
 * beside the command-log and crdt replicas it then calls in-process (`local`).
 */
export function decisionApiApp(
  local: LocalReplicas = {},
): AppDefinition<typeof decisionApiConfigSchema> {
  return {
    name: 'decision-api',
    schema: decisionApiConfigSchema,
    module: (config) => DecisionApiModule.register(config, local),
    platform: (config) => config.PARLEY_HTTP_PLATFORM,
    beforeListen: async (app, config, parts) => {
      const registry = app.get(Metrics);
      const metrics = requestMetrics(registry);
      // Security headers on every answer (no sniffing, no framing, no referrer, HSTS); the docs
      // page needs its own inline script and style, so it gets a relaxed CSP.
      const strict = helmet();
      const forDocs = helmet({ contentSecurityPolicy: false });
      const securityHeaders = (path: string) => (path.startsWith('/docs') ? forDocs : strict);
      let docsApp: INestApplication = app;
      if (parts.platform === 'fastify') {
        installOnFastify(
          app,
          { requestId: requestIdMiddleware, metrics, securityHeaders },
          parts.answerUnroutable,
        );
        docsApp = swaggerAppOnFastify(app);
      } else {
        app.use(requestIdMiddleware);
        app.use(metrics);
        // Answers are computed per request; an ETag would only cost a hash of every body.
        (app.getHttpAdapter().getInstance() as { set(name: string, value: unknown): void }).set(
          'etag',
          false,
        );
        app.use((request: { path: string }, response: unknown, next: () => void) =>
          securityHeaders(request.path)(request as never, response as never, next),
        );
        if (config.PARLEY_HTTP_FAST_LANE)
          installFastLane(app, {
            onTaken: () => registry.fastLaneRequests.inc(),
            controllers: [...DECISION_CONTROLLERS],
            guards: [...GLOBAL_GUARDS],
            // What Express runs before routing, in its order: the three above, then the JSON body
            // parser bootstrapApp registers after this.
            middleware: [
              requestIdMiddleware,
              metrics,
              strict,
              parts.jsonBodyParser,
            ] as Middleware[],
          });
      }
      // OpenAPI from the controllers and the body schemas the validators use: UI at /docs,
      // the document at /docs-json.
      const document = SwaggerModule.createDocument(
        app,
        new DocumentBuilder()
          .setTitle('Parley decision-api')
          .setVersion('1')
          .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'an API key' })
          .build(),
      );
      SwaggerModule.setup('docs', docsApp, document, { jsonDocumentUrl: 'docs-json' });
    },
  };
}
