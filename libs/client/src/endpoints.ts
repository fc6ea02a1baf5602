import { createBreaker } from '@parley/resilience';
import type CircuitBreaker from 'opossum';

/**
 * The decision-api endpoints a client may use, each behind its own circuit breaker (opossum,
 * through @parley/resilience, as the services wrap their own dependencies). The client sticks
 * to the endpoint that last answered and moves on when it fails.
 */
export interface BreakerSettings {
  /** Open when at least this percentage of the window's calls failed. */
  errorThresholdPercentage: number;
  /** Stay open this long before one trial call. */
  resetTimeoutMs: number;
  /** Calls in the window before the percentage counts. */
  volumeThreshold: number;
}

/** One HTTP exchange, as the breaker runs it. */
export type Exchange<T> = (baseUrl: string) => Promise<T>;

/** A failure that counts against an endpoint's health (no answer, or 502/503/504). */
export class EndpointFailure extends Error {
  constructor(
    message: string,
    readonly payload: unknown,
  ) {
    super(message);
    this.name = 'EndpointFailure';
  }
}

let breakerSerial = 0;

export class Endpoint {
  private readonly breaker: CircuitBreaker<[Exchange<unknown>], unknown>;

  constructor(
    readonly baseUrl: string,
    settings: BreakerSettings,
    attemptTimeoutMs: number,
  ) {
    breakerSerial += 1;
    this.breaker = createBreaker<[Exchange<unknown>], unknown>(
      (exchange) => exchange(this.baseUrl),
      {
        name: `parley-client#${breakerSerial} ${baseUrl}`,
        // The exchange aborts itself at attemptTimeoutMs; this is a backstop only.
        timeoutMs: attemptTimeoutMs + 1_000,
        ...settings,
        isHealthyError: (error) => !(error instanceof EndpointFailure),
      },
    );
  }

  get open(): boolean {
    return this.breaker.opened;
  }

  /** Runs the exchange through this endpoint's breaker (rejects at once while it is open). */
  fire<T>(exchange: Exchange<T>): Promise<T> {
    return this.breaker.fire(exchange) as Promise<T>;
  }

  close(): void {
    this.breaker.shutdown();
  }
}

/** opossum's rejection when a breaker is open: the call never left the client. */
export function isBreakerOpen(error: unknown): boolean {
  return (error as { code?: string })?.code === 'EOPENBREAKER';
}

export class EndpointPool {
  readonly endpoints: Endpoint[];
  /** The endpoint that answered last: the first one tried. */
  private preferred = 0;

  constructor(urls: string[], settings: BreakerSettings, attemptTimeoutMs: number) {
    this.endpoints = urls.map((url) => new Endpoint(url, settings, attemptTimeoutMs));
  }

  /** The endpoint for the attempt after `shift` failovers: closed breakers first. */
  pick(shift: number): Endpoint {
    const n = this.endpoints.length;
    const inOrder = Array.from(
      { length: n },
      (_, k) => this.endpoints[(this.preferred + shift + k) % n],
    );
    return inOrder.find((endpoint) => !endpoint.open) ?? inOrder[0];
  }

  answered(endpoint: Endpoint): void {
    this.preferred = this.endpoints.indexOf(endpoint);
  }

  close(): void {
    for (const endpoint of this.endpoints) endpoint.close();
  }
}
