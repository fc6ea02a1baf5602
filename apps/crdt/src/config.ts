import {
  durableWriteFields,
  baseFields,
  booleanFlag,
  boundedInt,
  checkTls,
  hostPortList,
  peerTlsFields,
  port,
  secret,
  url,
} from '@parley/config';
import { z } from 'zod';

/** Configuration of a crdt replica. */
export const crdtConfigSchema = z
  .object({
    ...baseFields(8200),
    /** TLS of direct delta replication between replicas (mutual). */
    ...peerTlsFields(),
    /** Shared secret that authenticates delta traffic; never logged. */
    PARLEY_CLUSTER_SECRET: secret(),
    /** Names this cluster (NATS subjects); the same on every replica. */
    PARLEY_CLUSTER_ID: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/)
      .default('parley')
      .describe('a cluster id of 1-63 characters [a-z0-9_-]'),
    /** TCP port for direct delta replication (the embedded default). */
    PARLEY_CRDT_PEER_PORT: port(7300),
    /** Other crdt replicas for direct replication, `host:port,...`. */
    PARLEY_CRDT_PEERS: hostPortList(),
    /** When set, deltas go over NATS instead of direct connections. */
    PARLEY_NATS_URL: url(['nats', 'tls']),
    /** Milliseconds between anti-entropy rounds (digest exchange, then full states of what differs). */
    PARLEY_CRDT_ANTI_ENTROPY_MS: boundedInt(2_000, 50, 3_600_000, 'milliseconds'),
    /** Objects (counters, sets, flags) one replica holds at most; past it writes get 507. */
    PARLEY_CRDT_OBJECTS_MAX: boundedInt(100_000, 1, 10_000_000, 'objects'),
    /**
     * Milliseconds a local delta may wait to be broadcast, merged with the deltas of the same
     * object written meanwhile (one write per peer for many increments); 0 sends each at once.
     */
    PARLEY_CRDT_BROADCAST_LINGER_MS: boundedInt(2, 0, 1_000, 'milliseconds'),
    /** Delta log writes on disk (O_DSYNC) before answering 202 (turn off only to measure the floor). */
    PARLEY_CRDT_FSYNC: booleanFlag(true),
    ...durableWriteFields(),
  })
  .superRefine(checkTls);

export type CrdtConfig = z.output<typeof crdtConfigSchema>;
