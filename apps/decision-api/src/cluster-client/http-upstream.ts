import { breakerState, createBreaker } from '@parley/resilience';
import { Problem } from '../http/problem';

const REQUEST_TIMEOUT_MS = 5_000;

/**
 * A local app reached over HTTP (the crdt replica, the gossip member), behind an opossum
 * breaker: while it keeps failing, calls fail fast with 503 instead of piling up.
 */
export class HttpUpstream {
  private readonly breaker;

  constructor(
    readonly name: string,
    private readonly nodes: readonly string[],
  ) {
    this.breaker = createBreaker(
      async (method: string, path: string, body: unknown) => this.send(method, path, body),
      {
        name,
        timeoutMs: REQUEST_TIMEOUT_MS,
        errorThresholdPercentage: 50,
        resetTimeoutMs: 2_000,
        volumeThreshold: 5,
      },
    );
  }

  get configured(): boolean {
    return this.nodes.length > 0;
  }

  state(): string {
    return breakerState(this.breaker);
  }

  async call(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: unknown }> {
    if (this.nodes.length === 0)
      throw new Problem(503, 'Service Unavailable', `no ${this.name} node is configured`, {
        retryAfterSeconds: 5,
      });
    try {
      return await this.breaker.fire(method, path, body);
    } catch {
      throw new Problem(503, 'Service Unavailable', `${this.name} is unavailable`, {
        retryAfterSeconds: 1,
      });
    }
  }

  /** The first node that answers; a 4xx from it is an answer, not a failure. */
  private async send(
    method: string,
    path: string,
    body: unknown,
  ): Promise<{ status: number; json: unknown }> {
    let lastError: unknown;
    for (const node of this.nodes) {
      try {
        const response = await fetch(`http://${node}${path}`, {
          method,
          headers: body === undefined ? {} : { 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        if (response.status >= 500) throw new Error(`${this.name} answered ${response.status}`);
        return { status: response.status, json: await response.json().catch(() => undefined) };
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError;
  }
}

/** The local crdt replica (DI token). */
export class CrdtUpstream extends HttpUpstream {}

/** The local gossip member (DI token). */
export class GossipUpstream extends HttpUpstream {}
