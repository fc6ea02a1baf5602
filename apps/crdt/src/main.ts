import 'reflect-metadata';
import { bootstrapApp } from '@parley/app-kit';
import { crdtConfigSchema } from './config';
import { CrdtModule } from './crdt.module';

void bootstrapApp({
  name: 'crdt',
  schema: crdtConfigSchema,
  module: (config) => CrdtModule.register(config),
});
