import { Logger } from '@nestjs/common';
import { backoffDelayMs } from '@parley/resilience';
import type { RenderedAnswer } from '../http/problem';
import { entityOf, type AcceptedRequest, type DecidedRequest } from './outbox-state';

/** What settling one request came to: its answer, or "not now" (no leader, no quorum). */
export type Settled = { kind: 'decided'; answer: RenderedAnswer } | { kind: 'not-now' };

export interface DrainerOptions {
  /** Entities whose oldest request is proposed at once (the client batches them). */
  concurrency: number;
  /** Full-jitter back-off while no leader takes the proposals. */
  delayMsBase: number;
  delayMsMax: number;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** What the drainer needs of the outbox (Outbox, or a plain one in unit tests). */
export interface DrainSource {
  heads(max: number): AcceptedRequest[];
  decide(decided: DecidedRequest): Promise<void>;
}

/**
 * Proposes what the outbox holds, in order per entity: only each entity's oldest request is out
 * at a time, so two buffered reservations of one sku are decided in the order they were
 * accepted. While proposals are refused for want of a leader or quorum (`not-now`), it backs off
 * exponentially with full jitter (base · 2^attempt, capped) and tries again: the minority side of
 * a partition keeps its requests until a leader is back. It never gives a request up; requests
 * carry their requestId, so proposing one again after a crash or an unknown outcome applies it
 * at most once (the state machine replays the first result).
 */
export class OutboxDrainer {
  private readonly logger = new Logger('OutboxDrainer');
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private running = false;
  private stopped = false;
  /** Consecutive rounds refused for want of a leader (the back-off's exponent). */
  private attempt = 0;
  /** Whether the last round found no leader: its requests are "buffered", not just "pending". */
  buffering = false;

  constructor(
    private readonly source: DrainSource,
    private readonly settle: (request: AcceptedRequest) => Promise<Settled>,
    private readonly options: DrainerOptions,
  ) {
    this.random = options.random ?? Math.random;
    this.sleep =
      options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms).unref()));
  }

  /**
   * Something was accepted: drain now. A back-off under way finishes first, so a stream of
   * requests on the minority side does not turn into a stream of proposals nobody takes.
   */
  kick(): void {
    if (!this.running && !this.stopped) void this.run();
  }

  stop(): void {
    this.stopped = true;
  }

  /** Drains until the outbox is empty; resolves then (or when stopped). */
  async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (!this.stopped) {
        const heads = this.source.heads(this.options.concurrency);
        if (heads.length === 0) break;
        const outcomes = await Promise.all(heads.map((request) => this.settleOne(request)));
        if (outcomes.includes('not-now')) {
          this.buffering = true;
          const delayMs = backoffDelayMs(this.attempt, this.options, this.random);
          this.attempt += 1;
          await this.sleep(delayMs);
        } else {
          this.buffering = false;
          this.attempt = 0;
        }
      }
    } finally {
      this.running = false;
    }
  }

  private async settleOne(request: AcceptedRequest): Promise<'decided' | 'not-now'> {
    let settled: Settled;
    try {
      settled = await this.settle(request);
    } catch (error) {
      // A bug, not the cluster: keep the request (it is retried) and say so.
      this.logger.error(
        `settling ${request.requestId} on ${entityOf(request.command)} failed: ${String(error)}`,
      );
      return 'not-now';
    }
    if (settled.kind === 'not-now') return 'not-now';
    await this.source.decide({
      requestId: request.requestId,
      answer: settled.answer,
      decidedAt: Date.now(),
      ...(request.agentId === undefined ? {} : { agentId: request.agentId }),
    });
    return 'decided';
  }
}
