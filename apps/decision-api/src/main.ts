import 'reflect-metadata';
import { bootstrapApp } from '@parley/app-kit';
import helmet from 'helmet';
import { decisionApiConfigSchema } from './config';
import { DecisionApiModule } from './decision-api.module';

void bootstrapApp({
  name: 'decision-api',
  schema: decisionApiConfigSchema,
  module: (config) => DecisionApiModule.register(config),
  // Security headers on every answer (no sniffing, no framing, no referrer, HSTS).
  beforeListen: async (app) => {
    app.use(helmet());
  },
});
