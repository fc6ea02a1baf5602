import { Injectable, Logger } from '@nestjs/common';

/**
 * Terminus's logger for failed health checks. A readiness probe fails for expected reasons
 * (a new cluster electing its first leader, a replica catching up, an outage a load balancer
 * probes every second): each failure is logged at warn, and a failure that repeats the previous
 * one word for word is not logged again, so the log says when the state changed rather than
 * how often it was asked. The 503 answers are unchanged.
 */
@Injectable()
export class HealthCheckLogger extends Logger {
  private lastFailure: string | undefined;

  constructor() {
    super('Health');
  }

  override error(message: unknown): void {
    const text = String(message);
    if (text === this.lastFailure) return;
    this.lastFailure = text;
    super.warn(text);
  }
}
