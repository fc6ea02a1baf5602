import { ConsoleLogger, DynamicModule, INestApplication, LogLevel, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { json } from 'express';
import { ConfigError, loadConfig } from '@parley/config';
import { z } from 'zod';
import { HttpTlsConfig, httpsServerOptions } from './tls';

/** What every app's main.ts hands to `bootstrapApp`. */
export interface AppDefinition<S extends z.ZodObject> {
  /** The app's name as it appears in logs and errors, e.g. `command-log`. */
  name: string;
  schema: S;
  /** Builds the root module from the validated configuration. */
  module: (config: z.output<S>) => DynamicModule | Type<unknown>;
  /**
   * Runs after the module is created and before listening, e.g. to connect a microservice.
   * `jsonBodyParser` is the body parser the app gets after this returns (for an app that also
   * serves requests outside Express, with the same limit and rules).
   */
  beforeListen?: (
    app: INestApplication,
    config: z.output<S>,
    parts: { jsonBodyParser: ReturnType<typeof json> },
  ) => Promise<void>;
}

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

/**
 * Validates configuration once, then boots the Nest application. A bad setting stops start-up
 * with one line on stderr naming the variable and what it expects, and exit code 2.
 */
export async function bootstrapApp<S extends z.ZodObject>(
  definition: AppDefinition<S>,
  env: Record<string, string | undefined> = process.env,
): Promise<INestApplication | undefined> {
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
    prefix: `${definition.name}/${config.PARLEY_NODE_ID}`,
    json: config.PARLEY_LOG_FORMAT === 'json',
    logLevels: levelsFrom[config.PARLEY_LOG_LEVEL],
  });
  // HTTPS when PARLEY_TLS_CERT_FILE is set (validated with its key at load time).
  const httpsOptions = httpsServerOptions(config);
  const app = await NestFactory.create<NestExpressApplication>(definition.module(config), {
    logger,
    bodyParser: false,
    abortOnError: false,
    httpsOptions,
  });
  // Express names itself in a header on every answer unless told not to; nobody needs it.
  (app.getHttpAdapter().getInstance() as { disable(setting: string): void }).disable(
    'x-powered-by',
  );
  app.enableShutdownHooks();
  // The app's own middleware (request ids, metrics, security headers) first, then the body
  // parser: an answer to a body that does not parse gets them too.
  const jsonBodyParser = json({ limit: config.PARLEY_HTTP_BODY_BYTES_MAX });
  if (definition.beforeListen) await definition.beforeListen(app, config, { jsonBodyParser });
  app.use(jsonBodyParser);
  await app.listen(config.PARLEY_HTTP_PORT, config.PARLEY_HTTP_HOST);
  const scheme = httpsOptions ? 'https' : 'http';
  const clientAuth = config.PARLEY_TLS_CLIENT_CERT_AUTH ? ' (client certificates required)' : '';
  logger.log(
    `listening on ${scheme}://${config.PARLEY_HTTP_HOST}:${config.PARLEY_HTTP_PORT}${clientAuth}`,
  );
  return app;
}
