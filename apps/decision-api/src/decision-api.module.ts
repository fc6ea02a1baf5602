import { DynamicModule, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { APP_FILTER, APP_GUARD, Reflector } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { ThrottlerModule } from '@nestjs/throttler';
import { HealthCheckLogger, LivenessController, peerTls } from '@parley/app-kit';
import type { LocalCommandLog } from '@parley/command-log-api';
import type { LocalCrdtWrites } from '@parley/crdt';
import { ApiKeyGuard, ApiKeys } from './auth/api-keys';
import { KeyThrottlerGuard } from './auth/key-throttler.guard';
import { RememberingReflector } from './auth/remembering-reflector';
import { SlidingWindowStorage } from './auth/sliding-window-storage';
import { CommandLogClient } from './cluster-client/command-log-client';
import { EventualWrites } from './cluster-client/eventual-writes';
import { CrdtUpstream, GossipUpstream } from './cluster-client/http-upstream';
import { DecisionApiConfig } from './config';
import { DashboardController } from './dashboard/dashboard.controller';
import { DecisionActivity } from './dashboard/decision-activity';
import { ClusterController } from './http/cluster.controller';
import { EventualController } from './http/eventual.controller';
import { ProblemFilter } from './http/problem';
import { StrongController } from './http/strong.controller';
import { AgentEventsConsumer } from './kafka/agent-events.consumer';
import { ReadinessController } from './health/readiness.controller';
import { Metrics } from './metrics/metrics';
import { StrongDecisions } from './http/strong-decisions';
import { MetricsController } from './metrics/metrics.controller';
import { AsyncRequests } from './async/async-requests';
import { Alerts } from './alerts/alerts';
import { RequestsController } from './http/requests.controller';
import { WatchController } from './watch/watch.controller';
import { WatchHub } from './watch/watch-hub';

/** The global guards in the order they run: API key (401/403) first, then the rate limit. */
export const GLOBAL_GUARDS = [ApiKeyGuard, KeyThrottlerGuard] as const;

/** The controllers of the decision routes (SPEC §3), the ones the fast lane serves. */
export const DECISION_CONTROLLERS = [StrongController, EventualController] as const;

/** The replicas a decision-api reaches in-process when it runs in a node process (apps/node). */
export interface LocalReplicas {
  commandLog?: LocalCommandLog;
  crdtWrites?: LocalCrdtWrites;
}

@Module({})
export class DecisionApiModule {
  /**
   * The configuration was validated before this runs; Nest's ConfigService serves it typed.
   * `local`: the command-log and crdt replicas of this process, in a node process.
   */
  static register(config: DecisionApiConfig, local: LocalReplicas = {}): DynamicModule {
    // Every hop decision-api dials inside the cluster uses the peer TLS identity when set.
    const tls = peerTls(config);
    return {
      module: DecisionApiModule,
      imports: [
        ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [() => config] }),
        TerminusModule.forRoot({ logger: HealthCheckLogger }),
        ThrottlerModule.forRoot({
          throttlers: [{ ttl: 1_000, limit: config.PARLEY_RATE_LIMIT_PER_SECOND }],
          storage: new SlidingWindowStorage(),
        }),
      ],
      controllers: [
        LivenessController,
        ReadinessController,
        MetricsController,
        ...DECISION_CONTROLLERS,
        RequestsController,
        ClusterController,
        DashboardController,
        WatchController,
      ],
      providers: [
        {
          provide: ApiKeys,
          useValue: new ApiKeys(config.PARLEY_API_KEYS, config.PARLEY_VOTES_REQUIRE_BOUND_KEY),
        },
        // The guards read route metadata on every request: answers remembered (they never change).
        { provide: Reflector, useClass: RememberingReflector },
        // Named providers behind the global ones, so the fast lane runs the very same instances.
        ...GLOBAL_GUARDS,
        ProblemFilter,
        ...GLOBAL_GUARDS.map((guard) => ({ provide: APP_GUARD, useExisting: guard })),
        { provide: APP_FILTER, useExisting: ProblemFilter },
        Metrics,
        {
          provide: AsyncRequests,
          useFactory: (metrics: Metrics) => AsyncRequests.open(config, metrics),
          inject: [Metrics],
        },
        StrongDecisions,
        Alerts,
        { provide: DecisionActivity, useValue: new DecisionActivity() },
        AgentEventsConsumer,
        {
          provide: CommandLogClient,
          useValue: new CommandLogClient(
            config.PARLEY_COMMAND_LOG_NODES ?? [],
            config.PARLEY_RPC_SECRET,
            config.PARLEY_COMMIT_TIMEOUT_MS,
            config.PARLEY_COMMAND_LOG_TRANSPORT === 'nats' && config.PARLEY_NATS_URL
              ? { url: config.PARLEY_NATS_URL, clusterId: config.PARLEY_CLUSTER_ID }
              : undefined,
            config.PARLEY_RPC_BATCHES_IN_FLIGHT,
            {
              silentAfterMs: config.PARLEY_RPC_SILENT_AFTER_MS,
              probeTimeoutMs: config.PARLEY_RPC_PROBE_TIMEOUT_MS,
              suspectProbeIntervalMs: config.PARLEY_RPC_SUSPECT_PROBE_MS,
            },
            tls,
            local.commandLog,
          ),
        },
        {
          provide: WatchHub,
          inject: [CommandLogClient],
          useFactory: (client: CommandLogClient) =>
            new WatchHub(client, {
              recentEventsMax: config.PARLEY_WATCH_RECENT_EVENTS_MAX,
              // One long poll stays well inside the RPC timeout (commit timeout + slack).
              pollWaitMs: Math.min(2_000, config.PARLEY_COMMIT_TIMEOUT_MS),
              heartbeatMs: config.PARLEY_WATCH_HEARTBEAT_MS,
              watchersMax: config.PARLEY_WATCH_WATCHERS_MAX,
              bufferBytesMax: config.PARLEY_WATCH_BUFFER_BYTES_MAX,
            }),
        },
        {
          provide: CrdtUpstream,
          useValue: new CrdtUpstream('crdt', config.PARLEY_CRDT_NODES ?? [], tls),
        },
        {
          provide: EventualWrites,
          inject: [CrdtUpstream],
          useFactory: (crdt: CrdtUpstream) =>
            new EventualWrites(
              crdt,
              {
                batchMax: config.PARLEY_CRDT_BATCH_WRITES_MAX,
                inFlightMax: config.PARLEY_CRDT_BATCHES_IN_FLIGHT,
              },
              local.crdtWrites,
            ),
        },
        {
          provide: GossipUpstream,
          useValue: new GossipUpstream('gossip', config.PARLEY_GOSSIP_NODES ?? [], tls),
        },
      ],
    };
  }
}
