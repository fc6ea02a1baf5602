import {
  durableWriteFields,
  baseFields,
  booleanFlag,
  boundedInt,
  checkTls,
  hostPortList,
  peerTlsFields,
  secret,
  url,
} from '@parley/config';
import { z } from 'zod';
import { REPLICA_LIVENESS_DEFAULTS } from './cluster-client/replica-liveness';

/**
 * One API key: `role:key`, or `agent@<agentId>:<key>` for an agent key bound to one agent id
 * (it may vote only as that agent, and never names a weight). Keys have no `:`, so an agent id
 * may (the key is what follows the last one).
 */
const API_KEY_ENTRY =
  /(?:agent|reader|operator|agent@[A-Za-z0-9._:~-]{1,128}):[A-Za-z0-9._~-]{16,}/;

const apiKeyList = z
  .string()
  .regex(new RegExp(`^${API_KEY_ENTRY.source}(,${API_KEY_ENTRY.source})*$`))
  .transform((v) =>
    v.split(',').map((entry) => {
      const at = entry.lastIndexOf(':');
      const [role, agentId] = entry.slice(0, at).split(/@(.*)/s);
      return {
        role: role as 'agent' | 'reader' | 'operator',
        key: entry.slice(at + 1),
        ...(agentId === undefined ? {} : { agentId }),
      };
    }),
  )
  .describe(
    'a comma-separated list of role:key with role agent, reader or operator, or agent@<agentId>:key for an agent key bound to one agent id; keys of 16+ characters [A-Za-z0-9._~-]',
  );

/** Configuration of the stateless REST front. */
export const decisionApiConfigSchema = z
  .object({
    ...baseFields(8080),
    /**
     * TLS of the hops decision-api dials inside the cluster: command-log's microservice port and
     * the crdt and gossip HTTP ports (their certificates are checked against this CA, and this
     * certificate is presented to them).
     */
    ...peerTlsFields(),
    /** API keys with their roles (and agent keys possibly bound to an agent id). */
    PARLEY_API_KEYS: apiKeyList,
    /**
     * Votes only from agent keys bound to the voting agent (`agent@<agentId>:key`): an unbound
     * agent key gets 403 on the vote route. Off by default (an unbound key may vote as any
     * agent, as before bound keys existed).
     */
    PARLEY_VOTES_REQUIRE_BOUND_KEY: booleanFlag(false),
    /**
     * Secret that signs requests to command-log's microservice API (its PARLEY_RPC_SECRET, which
     * defaults to the cluster secret there). Strong routes answer 503 without it. Never logged.
     */
    PARLEY_RPC_SECRET: secret().optional(),
    /**
     * How to reach command-log's microservice API: `tcp` (PARLEY_COMMAND_LOG_NODES) or `nats`
     * (PARLEY_NATS_URL and PARLEY_CLUSTER_ID; replicas are found through any one of them).
     */
    PARLEY_COMMAND_LOG_TRANSPORT: z.enum(['tcp', 'nats']).default('tcp').describe('tcp or nats'),
    /** The command-log cluster's id (its NATS subjects); the same as PARLEY_CLUSTER_ID there. */
    PARLEY_CLUSTER_ID: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/)
      .default('parley')
      .describe('a cluster id of 1-63 characters [a-z0-9_-]'),
    /** The command-log replicas' microservice addresses, `host:rpcPort,...`. */
    PARLEY_COMMAND_LOG_NODES: hostPortList(),
    /** The local crdt replica's HTTP address, `host:port` (others are fallbacks). */
    PARLEY_CRDT_NODES: hostPortList(),
    /**
     * The most eventual REST writes (increments, set adds/removes, flags) of concurrent callers
     * sent to the crdt replica as one call; 1 sends each write alone. At most 200, so a call of
     * the largest writes (4 KiB flags) stays within the replica's default 1 MiB body limit.
     */
    PARLEY_CRDT_BATCH_WRITES_MAX: boundedInt(200, 1, 200, 'writes'),
    /**
     * Calls of gathered eventual writes out to the crdt replica at once; writes arriving
     * meanwhile wait and leave together when one returns (the replica group-commits them).
     */
    PARLEY_CRDT_BATCHES_IN_FLIGHT: boundedInt(2, 1, 64, 'calls'),
    /** The local gossip member's HTTP address, `host:port`. */
    PARLEY_GOSSIP_NODES: hostPortList(),
    /** Kafka bootstrap brokers for agent-events and decisions; off when unset. */
    PARLEY_KAFKA_BROKERS: hostPortList(),
    /** Consumer group of the agent-events consumer (one group for all decision-api nodes). */
    PARLEY_KAFKA_GROUP_ID: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,128}$/)
      .default('parley-decision-api')
      .describe('a Kafka group id'),
    /** agent-events partitions consumed at once by this node (kafkajs partitionsConsumedConcurrently). */
    PARLEY_KAFKA_PARTITIONS_CONCURRENT: boundedInt(3, 1, 64, 'partitions'),
    /**
     * The most agent-events records handled as one batch: its strong commands proposed
     * together, its eventual writes folded into one crdt batch, its offsets committed once.
     */
    PARLEY_KAFKA_BATCH_RECORDS_MAX: boundedInt(2_000, 1, 10_000, 'records'),
    /** Partitions of agent-events when this node creates it (checked when it exists). */
    PARLEY_KAFKA_AGENT_EVENTS_PARTITIONS: boundedInt(3, 1, 1_000, 'partitions'),
    /** Partitions of agent-events.dlq when this node creates it (checked when it exists). */
    PARLEY_KAFKA_DLQ_PARTITIONS: boundedInt(1, 1, 1_000, 'partitions'),
    /** Replication factor of agent-events and its DLQ (created so, checked when they exist). */
    PARLEY_KAFKA_REPLICATION_FACTOR: boundedInt(1, 1, 16, 'replicas'),
    PARLEY_NATS_URL: url(['nats', 'tls']),
    /** How long a strong command may wait for its commit before answering 504. */
    PARLEY_COMMIT_TIMEOUT_MS: boundedInt(5_000, 10, 120_000, 'milliseconds'),
    /**
     * Batches of strong commands (and of reads) out to command-log at once; requests arriving
     * meanwhile wait and leave together when one returns, so batches grow with the load
     * (group commit). With 1, 64 PUT clients sent batches of ~28 instead of ~12.
     */
    PARLEY_RPC_BATCHES_IN_FLIGHT: boundedInt(1, 1, 64, 'batches'),
    /**
     * A command-log replica that has answered nothing for this long while requests are out to it
     * is asked its status (a live one answers at once, whatever its requests wait for). Keep it
     * above the replicas' longest event-loop stall and near their election timeout.
     */
    PARLEY_RPC_SILENT_AFTER_MS: boundedInt(
      REPLICA_LIVENESS_DEFAULTS.silentAfterMs,
      10,
      60_000,
      'milliseconds',
    ),
    /**
     * A status probe unanswered this long makes the replica silent (SIGSTOP, a long GC pause, a
     * frozen host): its requests are abandoned and sent again to the new leader (proposals keep
     * their requestId) or to another replica (stale reads), or answered 504 when that is not
     * possible in time; the replica is skipped until it answers a probe. A request waits at a
     * silent replica about PARLEY_RPC_SILENT_AFTER_MS + this, not PARLEY_COMMIT_TIMEOUT_MS.
     */
    PARLEY_RPC_PROBE_TIMEOUT_MS: boundedInt(
      REPLICA_LIVENESS_DEFAULTS.probeTimeoutMs,
      10,
      60_000,
      'milliseconds',
    ),
    /** How often a silent (suspect) replica is probed again; its first answer ends the suspicion. */
    PARLEY_RPC_SUSPECT_PROBE_MS: boundedInt(
      REPLICA_LIVENESS_DEFAULTS.suspectProbeIntervalMs,
      10,
      60_000,
      'milliseconds',
    ),
    /**
     * Requests per second allowed per API key before 429. Counted in this process's memory:
     * each decision-api process enforces its own budget, so N processes behind a load balancer
     * allow a key up to N times it.
     */
    PARLEY_RATE_LIMIT_PER_SECOND: boundedInt(10_000, 1, 1_000_000, 'requests per second').describe(
      'an integer number of requests per second between 1 and 1000000, per API key and per ' +
        'decision-api process: N processes allow up to N× the budget',
    ),
    /**
     * The HTTP server under Nest: `express`, or `fastify` (same routes, guards, pipes, problem
     * answers and headers; measured side by side in docs/benchmarks.md).
     */
    PARLEY_HTTP_PLATFORM: z
      .enum(['express', 'fastify'])
      .default('express')
      .describe('express or fastify'),
    /**
     * On Express, serve the decision routes through the fast lane (same middleware, guards,
     * handlers and errors, without Express's router); `false` sends everything through Express,
     * e.g. to compare the two. Fastify has no lane.
     */
    PARLEY_HTTP_FAST_LANE: booleanFlag(true),
    /**
     * The folder of this process's outbox, where a strong write sent with
     * `Prefer: respond-async` is durably queued (fdatasync'ed) before its 202: it is proposed
     * from there, kept while no leader or quorum is reachable, and survives a restart. One
     * folder per decision-api process, never shared. Unset: the preference is ignored and every
     * write answers synchronously (RFC 7240 lets a server ignore a preference).
     */
    PARLEY_OUTBOX_DIR: z.string().min(1).optional().describe('a folder path'),
    /** Requests the outbox holds waiting for a decision; more are answered 503 + Retry-After. */
    PARLEY_OUTBOX_ENTRIES_MAX: boundedInt(100_000, 1, 10_000_000, 'requests'),
    /** Bytes (the commands' JSON) the outbox holds waiting; more are answered 503 + Retry-After. */
    PARLEY_OUTBOX_BYTES_MAX: boundedInt(64 * 1024 * 1024, 1024, 1024 * 1024 * 1024, 'bytes'),
    /**
     * Decided requests whose answer GET /v1/requests/{id} still gives (the oldest is forgotten
     * first, then 404).
     */
    PARLEY_OUTBOX_DECIDED_MAX: boundedInt(100_000, 1, 10_000_000, 'requests'),
    /** Each group of outbox records on disk (O_DSYNC) before answering 202; false only for benchmarks. */
    PARLEY_OUTBOX_FSYNC: booleanFlag(true),
    ...durableWriteFields(),
    /** Entities whose oldest buffered request is proposed at once (in order within an entity). */
    PARLEY_OUTBOX_DRAIN_CONCURRENCY: boundedInt(256, 1, 4_096, 'entities'),
    /** First back-off step of the drainer while no leader takes proposals (full jitter). */
    PARLEY_OUTBOX_RETRY_BASE_MS: boundedInt(100, 1, 60_000, 'milliseconds'),
    /** Longest back-off of the drainer while no leader takes proposals. */
    PARLEY_OUTBOX_RETRY_MAX_MS: boundedInt(5_000, 1, 600_000, 'milliseconds'),
    /**
     * Where partition alerts are POSTed as JSON (quorum lost and regained, leader changes above
     * the rate, outbox above its threshold); no webhook when unset (the alerts are still
     * Prometheus metrics).
     */
    PARLEY_ALERT_WEBHOOK_URL: url(['http', 'https']),
    /**
     * Signs each alert: header `Parley-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
     * "<t>.<body>">`. Unsigned when unset. Never logged.
     */
    PARLEY_ALERT_WEBHOOK_SECRET: secret().optional(),
    /** Alerts waiting to be delivered; the oldest is dropped (and counted) beyond it. */
    PARLEY_ALERT_QUEUE_MAX: boundedInt(1_000, 1, 100_000, 'alerts'),
    /** Attempts to deliver one alert (exponential back-off with full jitter between them). */
    PARLEY_ALERT_ATTEMPTS_MAX: boundedInt(6, 1, 100, 'attempts'),
    /** Time one webhook call may take before it counts as failed. */
    PARLEY_ALERT_TIMEOUT_MS: boundedInt(5_000, 10, 120_000, 'milliseconds'),
    /** How often this process checks that a command-log leader (so a quorum) answers it. */
    PARLEY_ALERT_POLL_MS: boundedInt(1_000, 50, 600_000, 'milliseconds'),
    /** More leader changes than this within PARLEY_ALERT_LEADER_CHANGES_WINDOW_MS raise an alert. */
    PARLEY_ALERT_LEADER_CHANGES_MAX: boundedInt(3, 1, 10_000, 'leader changes'),
    PARLEY_ALERT_LEADER_CHANGES_WINDOW_MS: boundedInt(60_000, 1_000, 86_400_000, 'milliseconds'),
    /** An outbox holding more requests than this raises an alert (once, until it drops below). */
    PARLEY_ALERT_OUTBOX_DEPTH: boundedInt(1_000, 1, 10_000_000, 'requests'),
    /** Open `GET /v1/watch` streams this process serves at once; beyond it 503 + Retry-After. */
    PARLEY_WATCH_WATCHERS_MAX: boundedInt(10_000, 1, 1_000_000, 'watchers'),
    /** Milliseconds between `: heartbeat` lines on an idle watch (for proxies' idle timeouts). */
    PARLEY_WATCH_HEARTBEAT_MS: boundedInt(15_000, 100, 3_600_000, 'milliseconds'),
    /**
     * Bytes a watcher may leave unread (in its socket's buffer) before it gets `overflow` and is
     * closed; it resumes with Last-Event-ID.
     */
    PARLEY_WATCH_BUFFER_BYTES_MAX: boundedInt(1_048_576, 1_024, 1_073_741_824, 'bytes'),
    /**
     * Recent decision events kept here (about 300 bytes each), so a watcher resuming from
     * close by joins without asking a replica; older resume points are read from the replicas.
     */
    PARLEY_WATCH_RECENT_EVENTS_MAX: boundedInt(10_000, 10, 10_000_000, 'events'),
  })
  .superRefine((config, context) => {
    checkTls(config, context);
    if (config.PARLEY_COMMAND_LOG_TRANSPORT === 'nats' && !config.PARLEY_NATS_URL)
      context.addIssue({
        code: 'custom',
        path: ['PARLEY_NATS_URL'],
        message: 'PARLEY_NATS_URL is required when PARLEY_COMMAND_LOG_TRANSPORT=nats',
      });
    if (config.PARLEY_OUTBOX_RETRY_BASE_MS > config.PARLEY_OUTBOX_RETRY_MAX_MS)
      context.addIssue({
        code: 'custom',
        path: ['PARLEY_OUTBOX_RETRY_BASE_MS'],
        message: 'PARLEY_OUTBOX_RETRY_BASE_MS must not exceed PARLEY_OUTBOX_RETRY_MAX_MS',
      });
    if (config.PARLEY_ALERT_WEBHOOK_SECRET && !config.PARLEY_ALERT_WEBHOOK_URL)
      context.addIssue({
        code: 'custom',
        path: ['PARLEY_ALERT_WEBHOOK_SECRET'],
        message: 'PARLEY_ALERT_WEBHOOK_SECRET is set but PARLEY_ALERT_WEBHOOK_URL is not',
      });
  });

export type DecisionApiConfig = z.output<typeof decisionApiConfigSchema>;
