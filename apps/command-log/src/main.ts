import 'reflect-metadata';
import { bootstrapApp } from '@parley/app-kit';
import { commandLogConfigSchema } from './config';
import { CommandLogModule } from './command-log.module';

void bootstrapApp({
  name: 'command-log',
  schema: commandLogConfigSchema,
  module: (config) => CommandLogModule.register(config),
});
