import 'reflect-metadata';
import { bootstrapApp } from '@parley/app-kit';
import { decisionApiConfigSchema } from './config';
import { DecisionApiModule } from './decision-api.module';

void bootstrapApp({
  name: 'decision-api',
  schema: decisionApiConfigSchema,
  module: (config) => DecisionApiModule.register(config),
});
