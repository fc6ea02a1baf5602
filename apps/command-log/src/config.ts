import {
  durableWriteFields,
  baseFields,
  boundedInt,
  booleanFlag,
  checkTls,
  hostPortList,
  peerList,
  peerTlsFields,
  port,
  secret,
  url,
} from '@parley/config';
import { z } from 'zod';

/** Configuration of a command-log replica. Each field says its unit. */
export const commandLogConfigSchema = z
  .object({
    ...baseFields(8100),
    /** TLS of the Raft peer port and of the microservice port decision-api dials (mutual). */
    ...peerTlsFields(),
    /** Shared secret that authenticates peer frames (HMAC); never logged. */
    PARLEY_CLUSTER_SECRET: secret(),
    /**
     * Shared secret that authenticates decision-api's microservice requests (HMAC per request);
     * the cluster secret when unset. Never logged.
     */
    PARLEY_RPC_SECRET: secret().optional(),
    /** TCP port for Raft peer traffic. */
    PARLEY_PEER_PORT: port(7100),
    /** TCP port of the Nest microservice that decision-api calls. */
    PARLEY_RPC_PORT: port(7200),
    /**
     * The voting members at first start, `id=host:peerPort,...`; this node must be among them.
     * Unset means a cluster of one on PARLEY_PEER_PORT.
     */
    PARLEY_PEERS: peerList().optional(),
    /**
     * Start as a new member of a running cluster (etcd's initial-cluster-state=existing): never
     * bootstrap; wait until an operator adds this node (command-log.members.add).
     */
    PARLEY_JOIN: booleanFlag(false),
    /** Milliseconds per Raft tick; election and heartbeat timeouts are counted in ticks. */
    PARLEY_TICK_MS: boundedInt(10, 1, 1000, 'milliseconds'),
    /** Election timeout in ticks (randomized up to twice this). */
    PARLEY_ELECTION_TICKS: boundedInt(10, 3, 1000, 'ticks'),
    /**
     * Ticks between the leader's heartbeats; unset, a third of PARLEY_ELECTION_TICKS (at least
     * 1): three heartbeats within a follower's shortest election timeout, so one lost or late
     * heartbeat never starts an election, at a third of the messages (and of the idle CPU) of
     * one heartbeat a tick. Failure detection is the election timeout either way.
     */
    PARLEY_HEARTBEAT_TICKS: z.coerce
      .number()
      .int()
      .min(1)
      .max(333)
      .optional()
      .describe('an integer number of ticks from 1 to a third of PARLEY_ELECTION_TICKS'),
    /**
     * Take a snapshot and compact the log after this many applied entries. etcd's default
     * (--snapshot-count 100,000 since v3.2): a snapshot serializes the whole state, session table
     * included; at 10,000 a 1,000,000-entry WAL replay took 80 s here, at 100,000 57 s.
     */
    PARLEY_SNAPSHOT_EVERY_ENTRIES: boundedInt(100_000, 10, 10_000_000, 'entries'),
    /** Entries kept in memory behind a snapshot, so briefly lagging followers need no snapshot. */
    PARLEY_COMPACTION_TAIL_ENTRIES: boundedInt(5_000, 0, 10_000_000, 'entries'),
    /**
     * Decision events kept in memory for the watch (about 300 bytes each), refilled from the WAL
     * at start; a watcher resuming from an older index is told `compacted`.
     */
    PARLEY_WATCH_RING_EVENTS_MAX: boundedInt(100_000, 100, 10_000_000, 'events'),
    /** Milliseconds between the leader's clock entries, which drive proposal deadlines. */
    PARLEY_CLOCK_INTERVAL_MS: boundedInt(1_000, 10, 3_600_000, 'milliseconds'),
    /**
     * Log time a requestId is remembered with its result; a retry after it is refused (409
     * idempotency-window-passed), never applied again. Changes what commands do: set it the
     * same on every replica.
     */
    PARLEY_IDEMPOTENCY_WINDOW_MS: boundedInt(600_000, 100, 7 * 24 * 3_600_000, 'milliseconds'),
    /**
     * Most requestIds inside the window (57 bytes each in memory when full, 49 in a snapshot);
     * at the bound new commands get 503 until the oldest id ages out. The same on every replica.
     */
    PARLEY_IDEMPOTENCY_IDS_MAX: boundedInt(4_000_000, 10, 100_000_000, 'ids'),
    /**
     * Ids past the window kept as a hash and a time (24 bytes each), so their retries are still
     * refused rather than applied; the oldest is dropped when full. The same on every replica.
     */
    PARLEY_IDEMPOTENCY_HORIZON_IDS_MAX: boundedInt(4_000_000, 0, 100_000_000, 'ids'),
    /**
     * How this replica writes the commands it proposes: `binary` (the default) or `json`, the
     * form of versions before the binary one. Every replica reads both; a replica of an older
     * version reads only `json`, so set `json` during a rolling upgrade from such a version
     * until every replica runs this one.
     */
    PARLEY_COMMAND_FORMAT: z.enum(['binary', 'json']).default('binary').describe('binary or json'),
    /** WAL writes on disk (O_DSYNC) before acknowledging (turn off only for benchmarks of the floor). */
    PARLEY_WAL_FSYNC: booleanFlag(true),
    ...durableWriteFields(),
    /**
     * Fault injection, like etcd's failpoints: a pause before every durable WAL write, to run a replica
     * on a slow disk in the chaos tests. 0 (the default) is off; leave it off in production.
     */
    PARLEY_WAL_SYNC_DELAY_MS: boundedInt(0, 0, 5_000, 'milliseconds'),
    /** Names this cluster (Kafka transactional id, S3 prefixes); the same on every replica. */
    PARLEY_CLUSTER_ID: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/)
      .default('parley')
      .describe('a cluster id of 1-63 characters [a-z0-9_-]'),
    /** Snapshots wait for the Kafka mirror up to this many entries of lag, then go ahead. */
    PARLEY_MIRROR_LAG_MAX_ENTRIES: boundedInt(1_000_000, 1_000, 100_000_000, 'entries'),
    /** Kafka bootstrap brokers for the mirror; the mirror is off when unset. */
    PARLEY_KAFKA_BROKERS: hostPortList(),
    /**
     * Least time between the starts of two mirror transactions while entries keep coming (500
     * waiting go at once); an entry after a quiet spell goes at once. Each Kafka transaction
     * costs the broker and the leader a few milliseconds of CPU whatever it holds: a longer
     * linger means fewer, larger transactions (less CPU under load), a shorter one less time
     * from commit to `decisions`. See docs/operations.md for measured trade-offs.
     */
    PARLEY_KAFKA_MIRROR_LINGER_MS: boundedInt(20, 0, 5_000, 'milliseconds'),
    /** Partitions of `decisions` when the mirror creates it (checked when it exists). */
    PARLEY_KAFKA_DECISIONS_PARTITIONS: boundedInt(1, 1, 1_000, 'partitions'),
    /**
     * Replication factor of `raft-log` and `decisions` (created so, checked when they exist).
     * raft-log always has one partition: it is the log, in index order.
     */
    PARLEY_KAFKA_REPLICATION_FACTOR: boundedInt(1, 1, 16, 'replicas'),
    /** S3-compatible endpoint for snapshots; the filesystem store is used when unset. */
    PARLEY_S3_ENDPOINT: url(['http', 'https']),
    PARLEY_S3_BUCKET: z
      .string()
      .min(3)
      .max(63)
      .default('parley-snapshots')
      .describe('a bucket name'),
    PARLEY_S3_REGION: z.string().min(1).default('us-east-1').describe('an S3 region name'),
    PARLEY_S3_ACCESS_KEY_ID: z.string().min(1).optional().describe('an access key id'),
    PARLEY_S3_SECRET_ACCESS_KEY: secret().optional(),
    /** An S3 upload attempt slower than this is abandoned and retried later (milliseconds). */
    PARLEY_S3_ATTEMPT_TIMEOUT_MS: boundedInt(60_000, 1_000, 3_600_000, 'milliseconds'),
    /** NATS URL; when set, the microservice API also listens on NATS request/reply. */
    PARLEY_NATS_URL: url(['nats', 'tls']),
  })
  .superRefine((config, context) => {
    checkTls(config, context);
    if (
      config.PARLEY_HEARTBEAT_TICKS !== undefined &&
      config.PARLEY_HEARTBEAT_TICKS * 3 > config.PARLEY_ELECTION_TICKS
    )
      context.addIssue({
        code: 'custom',
        path: ['PARLEY_HEARTBEAT_TICKS'],
        message: `must be at most a third of PARLEY_ELECTION_TICKS (${config.PARLEY_ELECTION_TICKS}), so that a follower hears three heartbeats within its shortest election timeout`,
      });
  });

/** The leader's heartbeat interval in ticks: as configured, else a third of the election timeout. */
export function heartbeatTicksOf(config: {
  PARLEY_HEARTBEAT_TICKS?: number;
  PARLEY_ELECTION_TICKS: number;
}): number {
  return config.PARLEY_HEARTBEAT_TICKS ?? Math.max(1, Math.floor(config.PARLEY_ELECTION_TICKS / 3));
}

export type CommandLogConfig = z.output<typeof commandLogConfigSchema>;
