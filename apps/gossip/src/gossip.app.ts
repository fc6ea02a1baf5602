import { AppDefinition } from '@parley/app-kit';
import { gossipConfigSchema } from './config';
import { GossipModule } from './gossip.module';

/** The gossip app as `bootstrapApp` runs it: alone (main.ts) or as part of a node process. */
export const gossipApp: AppDefinition<typeof gossipConfigSchema> = {
  name: 'gossip',
  schema: gossipConfigSchema,
  module: (config) => GossipModule.register(config),
};
