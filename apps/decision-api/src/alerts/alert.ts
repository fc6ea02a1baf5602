/** The partition alerts decision-api raises (issue: quorum, leader churn, a growing outbox). */
export type AlertKind = 'quorum-lost' | 'quorum-regained' | 'leader-changes' | 'outbox-depth';

/**
 * One alert, as the webhook's JSON body and the watch's `event: alert` data: its kind, when it
 * was raised, and the figures behind it.
 */
export interface Alert {
  kind: AlertKind;
  /** ISO 8601 time this process raised it. */
  at: string;
  [detail: string]: unknown;
}

/**
 * Where alerts go. Publishing never blocks and never throws: a sink queues or drops. The
 * webhook is one sink, the watch stream (`event: alert`) another.
 */
export interface AlertSink {
  publish(alert: Alert): void;
}
