import { INestApplication } from '@nestjs/common';
import { AppDefinition } from '@parley/app-kit';
import { LocalCrdtWrites } from '@parley/crdt';
import { crdtConfigSchema } from './config';
import { CrdtController } from './crdt.controller';
import { CrdtModule } from './crdt.module';

/** The crdt app as `bootstrapApp` runs it: alone (main.ts) or as part of a node process. */
export const crdtApp: AppDefinition<typeof crdtConfigSchema> = {
  name: 'crdt',
  schema: crdtConfigSchema,
  module: (config) => CrdtModule.register(config),
};

/**
 * The replica's `POST /v1/crdt/writes` for a decision-api in the same process (LocalCrdtWrites):
 * the route's handler, called directly. Its answers are fresh objects, built per call.
 */
export function localCrdtWritesOf(app: INestApplication): LocalCrdtWrites {
  const controller = app.get(CrdtController);
  return { writes: (body) => controller.writes(body) };
}
