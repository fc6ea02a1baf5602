import { AppDefinition } from '@parley/app-kit';
import { crdtConfigSchema } from './config';
import { CrdtModule } from './crdt.module';

/** The crdt app as `bootstrapApp` runs it: alone (main.ts) or as part of a node process. */
export const crdtApp: AppDefinition<typeof crdtConfigSchema> = {
  name: 'crdt',
  schema: crdtConfigSchema,
  module: (config) => CrdtModule.register(config),
};
