import {
  ConsoleLogger,
  DynamicModule,
  INestApplication,
  Logger,
  LogLevel,
  Type,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { json } from 'express';
import { ConfigError, loadConfig } from '@parley/config';
import { z } from 'zod';
import { HttpTlsConfig, httpsServerOptions } from './tls';
import { parseJsonBody } from './json-body';

/** What every app's main.ts hands to `bootstrapApp`. */
export interface AppDefinition<S extends z.ZodObject> {
  /** The app's name as it appears in logs and errors, e.g. `command-log`. */
  name: string;
  schema: S;
  /** Builds the root module from the validated configuration. */
  module: (config: z.output<S>) => DynamicModule | Type<unknown>;
  /** Which HTTP server Nest runs on; Express unless the app says otherwise. */
  platform?: (config: z.output<S>) => HttpPlatform;
  /**
   * Runs after the module is created and before listening, e.g. to connect a microservice.
   * On Express, `jsonBodyParser` is the body parser the app gets after this returns (for an app
   * that also serves requests outside Express, with the same limit and rules).
   */
  beforeListen?: (
    app: INestApplication,
    config: z.output<S>,
    parts: PlatformParts,
  ) => Promise<void>;
}

export type HttpPlatform = 'express' | 'fastify';

/** What `beforeListen` gets to know about the HTTP server under Nest. */
export type PlatformParts =
  | { platform: 'express'; jsonBodyParser: ReturnType<typeof json> }
  | {
      platform: 'fastify';
      /**
       * Fastify refuses a URL it cannot decode before routing, where neither hooks nor Nest's
       * exception filters run; `answer` answers it instead (else Fastify's own JSON).
       */
      answerUnroutable: (answer: UnroutableAnswer) => void;
    };

/** Answers a request Fastify refused before routing (`error` says why). */
export type UnroutableAnswer = (error: Error, request: FastifyRequest, reply: FastifyReply) => void;

const levelsFrom: Record<string, LogLevel[]> = {
  error: ['fatal', 'error'],
  warn: ['fatal', 'error', 'warn'],
  log: ['fatal', 'error', 'warn', 'log'],
  debug: ['fatal', 'error', 'warn', 'log', 'debug'],
  verbose: ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'],
};

interface BaseConfig extends HttpTlsConfig {
  PARLEY_NODE_ID: string;
  PARLEY_HTTP_HOST: string;
  PARLEY_HTTP_PORT: number;
  PARLEY_LOG_LEVEL: string;
  PARLEY_LOG_FORMAT: 'json' | 'text';
  PARLEY_HTTP_BODY_BYTES_MAX: number;
}

/** How `bootstrapApp` runs an app: alone in its process (the defaults), or as part of a node. */
export interface BootstrapOptions {
  /** The settings, `process.env` by default. */
  env?: Record<string, string | undefined>;
  /**
   * Whether the app closes itself on SIGTERM and SIGINT (true by default). A process that runs
   * several apps turns it off and closes them itself, in the order it needs.
   */
  shutdownHooks?: boolean;
  /**
   * The log lines' prefix, `<app>/<node id>` by default. Nest's loggers are process-wide, so a
   * process running several apps gives them one prefix and tells them apart by context.
   */
  logPrefix?: string;
}

/**
 * Validates configuration once, then boots the Nest application. A bad setting stops start-up
 * with one line on stderr naming the variable and what it expects, and exit code 2.
 */
export async function bootstrapApp<S extends z.ZodObject>(
  definition: AppDefinition<S>,
  options: BootstrapOptions = {},
): Promise<INestApplication | undefined> {
  const env = options.env ?? process.env;
  let config: z.output<S> & BaseConfig;
  try {
    config = loadConfig(definition.name, definition.schema, env) as z.output<S> & BaseConfig;
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exitCode = 2;
      return undefined;
    }
    throw error;
  }
  const logger = new ConsoleLogger({
    prefix: options.logPrefix ?? `${definition.name}/${config.PARLEY_NODE_ID}`,
    json: config.PARLEY_LOG_FORMAT === 'json',
    logLevels: levelsFrom[config.PARLEY_LOG_LEVEL],
  });
  // The same levels for Logger.isLevelEnabled, so per-request work for a line below the level
  // (decision-api's access lines) can be skipped instead of being done and dropped.
  Logger.overrideLogger(levelsFrom[config.PARLEY_LOG_LEVEL]);
  const platform = definition.platform?.(config) ?? 'express';
  const app =
    platform === 'fastify'
      ? await createOnFastify(definition.module(config), logger, config)
      : await createOnExpress(definition.module(config), logger, config);
  if (options.shutdownHooks ?? true) app.app.enableShutdownHooks();
  if (app.express) {
    // The app's own middleware (request ids, metrics, security headers) first, then the body
    // parser: an answer to a body that does not parse gets them too.
    const jsonBodyParser = json({ limit: config.PARLEY_HTTP_BODY_BYTES_MAX });
    if (definition.beforeListen)
      await definition.beforeListen(app.app, config, { platform: 'express', jsonBodyParser });
    app.app.use(jsonBodyParser);
  } else if (definition.beforeListen) {
    const answerUnroutable = (answer: UnroutableAnswer) => (app.unroutable.answer = answer);
    await definition.beforeListen(app.app, config, { platform: 'fastify', answerUnroutable });
  }
  await app.app.listen(config.PARLEY_HTTP_PORT, config.PARLEY_HTTP_HOST);
  const scheme = httpsServerOptions(config) ? 'https' : 'http';
  const clientAuth = config.PARLEY_TLS_CLIENT_CERT_AUTH ? ' (client certificates required)' : '';
  logger.log(
    `listening on ${scheme}://${config.PARLEY_HTTP_HOST}:${config.PARLEY_HTTP_PORT}${clientAuth}`,
  );
  return app.app;
}

type AppModule = DynamicModule | Type<unknown>;

async function createOnExpress(module: AppModule, logger: ConsoleLogger, config: BaseConfig) {
  const app = await NestFactory.create<NestExpressApplication>(module, {
    logger,
    bodyParser: false,
    abortOnError: false,
    // HTTPS when PARLEY_TLS_CERT_FILE is set (validated with its key at load time).
    httpsOptions: httpsServerOptions(config),
  });
  // Express names itself in a header on every answer unless told not to; nobody needs it.
  app.getHttpAdapter().getInstance().disable('x-powered-by');
  return { express: true as const, app };
}

/**
 * Nest on Fastify, routing as Express does (case-insensitive, a trailing slash ignored, long
 * path parameters left to the validators) and parsing bodies as express.json does: only JSON
 * objects and arrays, within the same byte limit, and a body of another type left unread.
 */
async function createOnFastify(module: AppModule, logger: ConsoleLogger, config: BaseConfig) {
  const https = httpsServerOptions(config);
  const unroutable: { answer: UnroutableAnswer } = {
    answer: (error, _request, reply) => void reply.send(error),
  };
  // Required here, on Fastify only, not imported at the top: Fastify and its adapter are
  // ~8 MiB resident in every app that runs on Express.
  type FastifyPlatform = typeof import('@nestjs/platform-fastify');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { FastifyAdapter } = require('@nestjs/platform-fastify') as FastifyPlatform;
  const adapter = new FastifyAdapter({
    ...(https ? { https } : {}),
    frameworkErrors: (error: Error, request: FastifyRequest, reply: FastifyReply) =>
      unroutable.answer(error, request, reply),
    bodyLimit: config.PARLEY_HTTP_BODY_BYTES_MAX,
    routerOptions: { caseSensitive: false, ignoreTrailingSlash: true, maxParamLength: 16_384 },
  });
  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, {
    logger,
    bodyParser: false,
    abortOnError: false,
  });
  const fastify = app.getHttpAdapter().getInstance();
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser(
    'application/json',
    { parseAs: 'string' },
    (_request, body, done) => {
      const outcome = parseJsonBody(body as string);
      if ('error' in outcome) done(outcome.error, undefined);
      else done(null, outcome.value);
    },
  );
  fastify.addContentTypeParser('*', (_request, payload, done) => {
    payload.resume();
    done(null, undefined);
  });
  return { express: false as const, app, unroutable };
}
