import { Logger } from '@nestjs/common';
import { redactUrl } from '@parley/app-kit';
import { backoffDelayMs } from '@parley/resilience';
import { createHmac, randomUUID } from 'node:crypto';
import type { Alert, AlertSink } from './alert';

export interface WebhookOptions {
  url: string;
  /** Signs each body (Parley-Signature); unsigned without it. */
  secret?: string;
  /** Alerts waiting; the oldest is dropped beyond it. */
  queueMax: number;
  /** Attempts per alert, with full-jitter back-off between them. */
  attemptsMax: number;
  timeoutMs: number;
  delayMsBase?: number;
  delayMsMax?: number;
  /** Counts deliveries by result (a Prometheus counter). */
  count?: (result: 'delivered' | 'failed' | 'dropped') => void;
  post?: (url: string, init: RequestInit) => Promise<{ ok: boolean; status: number }>;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/**
 * The `Parley-Signature` header of a body sent at `unixSeconds`: `t=<unix>,v1=<hex>`, the hex
 * HMAC-SHA256 of `<unix>.<body>` with the shared secret. A receiver recomputes it and compares
 * in constant time, and refuses a `t` too far from its clock (replays).
 */
export function alertSignature(secret: string, unixSeconds: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/**
 * Delivers alerts to PARLEY_ALERT_WEBHOOK_URL as JSON POSTs, one at a time in the order raised,
 * each retried with bounded exponential back-off (full jitter) until a 2xx or its attempts run
 * out. Never blocks the caller: publish() only queues, and a full queue drops its oldest alert
 * (counted). Each alert carries `Parley-Alert-Id`, the same on every attempt, so a receiver can
 * drop a duplicate (an attempt that timed out may have arrived).
 */
export class AlertWebhook implements AlertSink {
  private readonly logger = new Logger('AlertWebhook');
  private readonly queue: { id: string; alert: Alert }[] = [];
  private sending = false;
  private closed = false;

  constructor(private readonly options: WebhookOptions) {}

  publish(alert: Alert): void {
    if (this.closed) return;
    if (this.queue.length >= this.options.queueMax) {
      this.queue.shift();
      this.options.count?.('dropped');
    }
    this.queue.push({ id: randomUUID(), alert });
    if (!this.sending) void this.drain();
  }

  /** Alerts not delivered yet (queued, or the one being sent is not counted). */
  get queued(): number {
    return this.queue.length;
  }

  close(): void {
    this.closed = true;
    this.queue.length = 0;
  }

  private async drain(): Promise<void> {
    this.sending = true;
    try {
      for (let next = this.queue.shift(); next && !this.closed; next = this.queue.shift()) {
        const delivered = await this.deliver(next.id, next.alert);
        this.options.count?.(delivered ? 'delivered' : 'failed');
      }
    } finally {
      this.sending = false;
    }
  }

  private async deliver(id: string, alert: Alert): Promise<boolean> {
    const { options } = this;
    const post = options.post ?? ((url, init) => fetch(url, init));
    const sleep =
      options.sleep ?? ((ms) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref()));
    const now = options.now ?? Date.now;
    const body = JSON.stringify(alert);
    let last = '';
    for (let attempt = 0; attempt < options.attemptsMax && !this.closed; attempt += 1) {
      if (attempt > 0)
        await sleep(
          backoffDelayMs(
            attempt - 1,
            { delayMsBase: options.delayMsBase ?? 200, delayMsMax: options.delayMsMax ?? 30_000 },
            Math.random,
          ),
        );
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'parley-alert-id': id,
      };
      if (options.secret)
        headers['parley-signature'] = alertSignature(
          options.secret,
          Math.floor(now() / 1000),
          body,
        );
      try {
        const answer = await post(options.url, {
          method: 'POST',
          headers,
          body,
          signal: AbortSignal.timeout(options.timeoutMs),
        });
        if (answer.ok) return true;
        last = `status ${answer.status}`;
      } catch (error) {
        last = (error as Error).message;
      }
    }
    this.logger.warn(
      `alert ${alert.kind} not delivered to ${redactUrl(options.url)} after ${options.attemptsMax} attempts (${last})`,
    );
    return false;
  }
}
