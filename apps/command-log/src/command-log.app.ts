import { Logger } from '@nestjs/common';
import { Transport } from '@nestjs/microservices';
import {
  AppDefinition,
  NoDelayJsonSocket,
  backgroundNatsOptions,
  peerTls,
  redactUrl,
} from '@parley/app-kit';
import { NamespacedNatsServer } from './api/nats-rpc-server';
import { commandLogConfigSchema } from './config';
import { CommandLogModule } from './command-log.module';

/** The command-log app as `bootstrapApp` runs it: alone (main.ts) or as part of a node process. */
export const commandLogApp: AppDefinition<typeof commandLogConfigSchema> = {
  name: 'command-log',
  schema: commandLogConfigSchema,
  module: (config) => CommandLogModule.register(config),
  beforeListen: async (app, config) => {
    // The replica starts (WAL replay, recovery) before the microservice API opens: a caller that
    // connects early waits for the port instead of meeting a replica that is not there yet.
    await app.init();
    // The microservice API for decision-api over Nest's TCP transport; mutual TLS with the peer
    // certificates when they are configured (decision-api presents its own).
    const tcp = app.connectMicroservice(
      {
        transport: Transport.TCP,
        options: {
          host: config.PARLEY_HTTP_HOST,
          port: config.PARLEY_RPC_PORT,
          socketClass: NoDelayJsonSocket,
          tlsOptions: peerTls(config)?.server,
        },
      },
      { inheritAppConfig: true },
    );
    // Nest drops a refused handshake silently; say who was refused and why, as the peer port does.
    tcp.on(
      'tlsClientError',
      (error: Error, socket: { remoteAddress?: string; remotePort?: number }) =>
        Logger.warn(
          `refused a TLS connection from ${socket.remoteAddress ?? 'a client that hung up'}:${socket.remotePort ?? 0}: ${error.message}`,
          'Microservice',
        ),
    );
    await tcp.listen();
    if (config.PARLEY_NATS_URL) {
      // The same API on NATS request/reply, namespaced by cluster and node. NATS being down
      // must not stop the replica: the client waits for the first connection and reconnects
      // forever in the background while TCP serves.
      const nats = app.connectMicroservice(
        {
          strategy: new NamespacedNatsServer(
            backgroundNatsOptions(config.PARLEY_NATS_URL, `command-log/${config.PARLEY_NODE_ID}`),
            config.PARLEY_CLUSTER_ID,
            config.PARLEY_NODE_ID,
          ),
        },
        { inheritAppConfig: true },
      );
      nats.listen().then(
        () => Logger.log(`microservice API on NATS ${redactUrl(config.PARLEY_NATS_URL!)}`, 'Nats'),
        (error: unknown) => Logger.error(`NATS microservice failed: ${String(error)}`, 'Nats'),
      );
    }
  },
};
export { localCommandLogOf } from './api/local-command-log';
