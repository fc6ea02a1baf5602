import 'reflect-metadata';
import { Transport } from '@nestjs/microservices';
import { bootstrapApp } from '@parley/app-kit';
import { commandLogConfigSchema } from './config';
import { CommandLogModule } from './command-log.module';

void bootstrapApp({
  name: 'command-log',
  schema: commandLogConfigSchema,
  module: (config) => CommandLogModule.register(config),
  beforeListen: async (app, config) => {
    // The microservice API for decision-api over Nest's TCP transport.
    app.connectMicroservice(
      {
        transport: Transport.TCP,
        options: { host: config.PARLEY_HTTP_HOST, port: config.PARLEY_RPC_PORT },
      },
      { inheritAppConfig: true },
    );
    await app.startAllMicroservices();
  },
});
