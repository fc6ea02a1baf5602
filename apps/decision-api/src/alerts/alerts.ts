import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AsyncRequests } from '../async/async-requests';
import { CommandLogClient } from '../cluster-client/command-log-client';
import { DecisionApiConfig } from '../config';
import { Metrics } from '../metrics/metrics';
import { WatchHub } from '../watch/watch-hub';
import type { Alert, AlertSink } from './alert';
import { PartitionDetector } from './partition-detector';
import { AlertWebhook } from './webhook';

/**
 * Partition alerts: every PARLEY_ALERT_POLL_MS this process asks the command-log replicas it
 * can reach for their status, and raises `quorum-lost` / `quorum-regained` (a leader answers
 * or none does), `leader-changes` (above the configured rate) and `outbox-depth` (its outbox
 * above the threshold). Each alert is a Prometheus metric (parley_alerts_total{kind}, with
 * parley_quorum_reachable and parley_leader_changes_total) and goes to every sink: the watch
 * stream (`event: alert`), the webhook when PARLEY_ALERT_WEBHOOK_URL is set, and whatever
 * addSink adds.
 */
@Injectable()
export class Alerts implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Alerts');
  private readonly sinks: AlertSink[] = [];
  private readonly detector: PartitionDetector;
  private readonly webhook?: AlertWebhook;
  private timer?: NodeJS.Timeout;
  private polling = false;
  private leaderChangesCounted = 0;
  private readonly pollMs: number;

  constructor(
    config: ConfigService<DecisionApiConfig, true>,
    private readonly log: CommandLogClient,
    private readonly asyncRequests: AsyncRequests,
    private readonly metrics: Metrics,
    watch: WatchHub,
  ) {
    // Every watcher that takes alerts gets them as `event: alert` (GET /v1/watch).
    this.sinks.push({ publish: (alert) => watch.publishAlert(alert) });
    this.pollMs = config.get('PARLEY_ALERT_POLL_MS', { infer: true });
    this.detector = new PartitionDetector({
      leaderChangesMax: config.get('PARLEY_ALERT_LEADER_CHANGES_MAX', { infer: true }),
      leaderChangesWindowMs: config.get('PARLEY_ALERT_LEADER_CHANGES_WINDOW_MS', { infer: true }),
      outboxDepthMax: config.get('PARLEY_ALERT_OUTBOX_DEPTH', { infer: true }),
    });
    const url = config.get('PARLEY_ALERT_WEBHOOK_URL', { infer: true });
    if (url) {
      this.webhook = new AlertWebhook({
        url,
        secret: config.get('PARLEY_ALERT_WEBHOOK_SECRET', { infer: true }),
        queueMax: config.get('PARLEY_ALERT_QUEUE_MAX', { infer: true }),
        attemptsMax: config.get('PARLEY_ALERT_ATTEMPTS_MAX', { infer: true }),
        timeoutMs: config.get('PARLEY_ALERT_TIMEOUT_MS', { infer: true }),
        count: (result) => metrics.alertDeliveries.inc({ result }),
      });
      this.sinks.push(this.webhook);
    }
  }

  /** Adds a sink every alert goes to from now on (publish must not block). */
  addSink(sink: AlertSink): void {
    this.sinks.push(sink);
  }

  onApplicationBootstrap(): void {
    if (!this.log.configured) return;
    this.timer = setInterval(() => void this.poll(), this.pollMs);
    this.timer.unref();
    void this.poll();
  }

  /** One look at the cluster and the outbox; overlapping looks are skipped. */
  async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const statuses = await this.log.statuses().catch(() => []);
      const leader = statuses.find((s) => s.role === 'leader');
      const term = Math.max(0, ...statuses.map((s) => s.term));
      const now = Date.now();
      this.metrics.quorumReachable.set(leader ? 1 : 0);
      this.raise(this.detector.observeLeader(leader?.id ?? null, term, now));
      this.metrics.leaderChanges.inc(this.detector.leaderChangesTotal - this.leaderChangesCounted);
      this.leaderChangesCounted = this.detector.leaderChangesTotal;
      this.raise(this.detector.observeOutbox(this.asyncRequests.depth, now));
      this.metrics.alertChecks.inc();
    } finally {
      this.polling = false;
    }
  }

  private raise(alerts: Alert[]): void {
    for (const alert of alerts) {
      this.metrics.alertsRaised.inc({ kind: alert.kind });
      this.logger.warn(`alert ${alert.kind}: ${JSON.stringify(alert)}`);
      for (const sink of this.sinks) sink.publish(alert);
    }
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
    this.webhook?.close();
  }
}
