import { Injectable } from '@nestjs/common';
import { breakerStates } from '@parley/resilience';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { CommandLogClient } from '../cluster-client/command-log-client';
import { AgentEventsConsumer } from '../kafka/agent-events.consumer';

/**
 * Prometheus metrics of decision-api: request latency per route and consistency class,
 * decisions by outcome, breaker states, and each replica's Raft term/commit/applied (read from
 * the replicas when scraped).
 */
@Injectable()
export class Metrics {
  readonly registry = new Registry();
  readonly requestSeconds = new Histogram({
    name: 'parley_http_request_duration_seconds',
    help: 'REST request latency',
    labelNames: ['method', 'route', 'status', 'consistency'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly decisions = new Counter({
    name: 'parley_decisions_total',
    help: 'strong decisions by command type and outcome',
    labelNames: ['type', 'outcome'] as const,
    registers: [this.registry],
  });

  /** Requests the fast lane took (the rest went through Express): is the short way used? */
  readonly fastLaneRequests = new Counter({
    name: 'parley_http_fast_lane_requests_total',
    help: 'REST requests served by the fast lane rather than Express',
    registers: [this.registry],
  });

  /** Requests in this process's outbox waiting for a decision (respond-async, buffered). */
  readonly outboxDepth = new Gauge({
    name: 'parley_outbox_depth',
    help: 'respond-async requests in this process outbox waiting for a decision',
    registers: [this.registry],
  });
  readonly outboxBytes = new Gauge({
    name: 'parley_outbox_bytes',
    help: 'bytes of the commands in this process outbox waiting for a decision',
    registers: [this.registry],
  });
  /** 1 while a command-log leader answers this process (so a quorum stands behind it). */
  readonly quorumReachable = new Gauge({
    name: 'parley_quorum_reachable',
    help: '1 while a command-log leader answers this decision-api, 0 while none does',
    registers: [this.registry],
  });
  /** Looks at the cluster the alert monitor took (is it alive?). */
  readonly alertChecks = new Counter({
    name: 'parley_alert_checks_total',
    help: 'looks at the command-log leader and the outbox taken for partition alerts',
    registers: [this.registry],
  });
  readonly leaderChanges = new Counter({
    name: 'parley_leader_changes_total',
    help: 'changes of the command-log leader seen by this decision-api',
    registers: [this.registry],
  });
  readonly alertsRaised = new Counter({
    name: 'parley_alerts_total',
    help: 'partition alerts raised, by kind (quorum-lost, quorum-regained, leader-changes, outbox-depth)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly alertDeliveries = new Counter({
    name: 'parley_alert_webhook_deliveries_total',
    help: 'alert webhook deliveries by result (delivered, failed after every attempt, dropped from a full queue)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  /** Open `GET /v1/watch` streams on this process. */
  readonly watchers = new Gauge({
    name: 'parley_watchers',
    help: 'open GET /v1/watch streams on this decision-api',
    registers: [this.registry],
  });

  /** Watchers closed with `overflow` because they read too slowly. */
  readonly watchOverflows = new Counter({
    name: 'parley_watch_overflows_total',
    help: 'watch streams closed with an overflow event (the client read too slowly)',
    registers: [this.registry],
  });

  constructor(log: CommandLogClient, consumer: AgentEventsConsumer) {
    collectDefaultMetrics({ register: this.registry, prefix: 'parley_api_' });
    new Gauge({
      name: 'parley_breaker_open',
      help: '1 when the named circuit breaker is open, 0.5 half-open, 0 closed',
      labelNames: ['name'] as const,
      registers: [this.registry],
      collect() {
        for (const [name, state] of Object.entries(breakerStates()))
          this.set({ name }, state === 'open' ? 1 : state === 'half-open' ? 0.5 : 0);
      },
    });
    const raft = (name: string, field: 'term' | 'commitIndex' | 'appliedIndex') =>
      new Gauge({
        name,
        help: `Raft ${field} per command-log replica`,
        labelNames: ['replica'] as const,
        registers: [this.registry],
        async collect() {
          for (const status of await log.statuses())
            this.set({ replica: status.id }, status[field]);
        },
      });
    new Gauge({
      name: 'parley_kafka_consumer_lag',
      help: 'agent-events records not yet committed by this consumer group',
      registers: [this.registry],
      collect() {
        if (consumer.lag !== undefined) this.set(consumer.lag);
      },
    });
    new Gauge({
      name: 'parley_command_log_replica_suspect',
      help: '1 while a command-log replica is skipped for answering no status probe (paused, frozen), else 0',
      labelNames: ['replica'] as const,
      registers: [this.registry],
      collect() {
        for (const [replica, suspect] of log.replicaLiveness.suspicion())
          this.set({ replica }, suspect ? 1 : 0);
      },
    });
    new Counter({
      name: 'parley_command_log_requests_abandoned_total',
      help: 'requests abandoned at a silent or deposed command-log replica (then sent again, or 503/504)',
      registers: [this.registry],
      collect() {
        // The client keeps the count; the counter shows it as it stands at the scrape.
        this.reset();
        this.inc(log.replicaLiveness.requestsAbandoned);
      },
    });
    raft('parley_raft_term', 'term');
    raft('parley_raft_commit_index', 'commitIndex');
    raft('parley_raft_applied_index', 'appliedIndex');
  }
}

/** Times every request, labelled by its route pattern (not the raw path) and consistency. */
