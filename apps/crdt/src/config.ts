import { baseFields, hostPortList, port, secret, url } from '@parley/config';
import { z } from 'zod';

/** Configuration of a crdt replica. */
export const crdtConfigSchema = z.object({
  ...baseFields(8200),
  /** Shared secret that authenticates delta traffic; never logged. */
  PARLEY_CLUSTER_SECRET: secret(),
  /** TCP port for direct delta replication (the embedded default). */
  PARLEY_CRDT_PEER_PORT: port(7300),
  /** Other crdt replicas for direct replication, `host:port,...`. */
  PARLEY_CRDT_PEERS: hostPortList(),
  /** When set, deltas go over NATS instead of direct connections. */
  PARLEY_NATS_URL: url(['nats', 'tls']),
});

export type CrdtConfig = z.output<typeof crdtConfigSchema>;
