import 'reflect-metadata';
import { bootstrapApp } from '@parley/app-kit';
import { gossipConfigSchema } from './config';
import { GossipModule } from './gossip.module';

void bootstrapApp({
  name: 'gossip',
  schema: gossipConfigSchema,
  module: (config) => GossipModule.register(config),
});
