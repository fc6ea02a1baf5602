import { OnApplicationShutdown } from '@nestjs/common';
import type { OutboxView, RequestWaiting } from '@parley/decision-api-contract';
import { InlineWrites } from '@parley/common';
import { DecisionApiConfig } from '../config';
import { Metrics } from '../metrics/metrics';
import { EarlyAnswer, Problem, RenderedAnswer } from '../http/problem';
import { Outbox } from './outbox';
import { OutboxDrainer, Settled } from './outbox-drainer';
import { AcceptedRequest, mayReadStatus, StatusReader } from './outbox-state';

/** How long a client is told to wait when the outbox is full. */
const FULL_RETRY_AFTER_S = 5;

/**
 * Accept now, decide later (`Prefer: respond-async`): a strong write is written to this
 * process's outbox (durable once answered 202), proposed by the drainer, and its answer kept
 * for `GET /v1/requests/{requestId}`. Off (the preference ignored, every write synchronous)
 * when PARLEY_OUTBOX_DIR is unset.
 */
export class AsyncRequests implements OnApplicationShutdown {
  private drainer?: OutboxDrainer;

  private constructor(
    private readonly outbox: Outbox | undefined,
    private readonly config: DecisionApiConfig,
    private readonly metrics: Metrics,
  ) {
    this.observeDepth();
  }

  static async open(config: DecisionApiConfig, metrics: Metrics): Promise<AsyncRequests> {
    const outbox = config.PARLEY_OUTBOX_DIR
      ? await Outbox.open(
          config.PARLEY_OUTBOX_DIR,
          {
            entriesMax: config.PARLEY_OUTBOX_ENTRIES_MAX,
            bytesMax: config.PARLEY_OUTBOX_BYTES_MAX,
            decidedMax: config.PARLEY_OUTBOX_DECIDED_MAX,
          },
          config.PARLEY_OUTBOX_FSYNC,
          InlineWrites.withLimitUs(config.PARLEY_INLINE_WRITE_MAX_US),
        )
      : undefined;
    return new AsyncRequests(outbox, config, metrics);
  }

  /** Whether `Prefer: respond-async` is honoured (an outbox is configured). */
  get enabled(): boolean {
    return this.outbox !== undefined;
  }

  /** Requests in the outbox waiting for a decision (0 without an outbox). */
  get depth(): number {
    return this.outbox?.depth ?? 0;
  }

  /**
   * Starts proposing what the outbox holds (what a previous run left too), each request
   * settled by `settle` (StrongDecisions: propose it, answer as the synchronous route would).
   */
  startDraining(settle: (request: AcceptedRequest) => Promise<Settled>): void {
    const outbox = this.outbox;
    if (!outbox || this.drainer) return;
    const drainer = new OutboxDrainer(
      {
        heads: (max) => outbox.heads(max),
        decide: async (decided) => {
          await outbox.decide(decided);
          this.observeDepth();
        },
      },
      settle,
      {
        concurrency: this.config.PARLEY_OUTBOX_DRAIN_CONCURRENCY,
        delayMsBase: this.config.PARLEY_OUTBOX_RETRY_BASE_MS,
        delayMsMax: this.config.PARLEY_OUTBOX_RETRY_MAX_MS,
      },
    );
    this.drainer = drainer;
    outbox.onAccepted(() => drainer.kick());
    drainer.kick();
  }

  /**
   * Queues `request` durably and gives the 202 to answer with (thrown, see EarlyAnswer);
   * 503 + Retry-After when the outbox is full, 422 when its requestId is taken by another
   * command.
   */
  async accept(request: AcceptedRequest): Promise<EarlyAnswer> {
    const admission = await this.outbox!.accept(request);
    this.observeDepth();
    if (admission.kind === 'full')
      throw new Problem(
        503,
        'Service Unavailable',
        `the outbox holds as many requests (${admission.reason}) as it may; retry later`,
        { type: 'outbox-full', retryAfterSeconds: FULL_RETRY_AFTER_S },
      );
    if (admission.kind === 'key-reuse')
      throw new Problem(
        422,
        'Unprocessable Content',
        `requestId ${request.requestId} was already used for a request with a different body; use a new requestId for a new request`,
        { type: 'idempotency-key-reuse' },
      );
    return new EarlyAnswer(
      202,
      {
        Location: `/v1/requests/${encodeURIComponent(request.requestId)}`,
        'Preference-Applied': 'respond-async',
      },
      { requestId: request.requestId, state: 'pending' } satisfies RequestWaiting,
    );
  }

  /**
   * What GET /v1/requests/{id} answers: the decided answer, the waiting state, or undefined
   * (unknown here: never accepted by this process, or its answer already forgotten, or
   * submitted by another agent than `reader` may see: mayReadStatus).
   */
  status(requestId: string, reader: StatusReader): RenderedAnswer | undefined {
    const decided = this.outbox?.decidedRequest(requestId);
    if (decided) return mayReadStatus(reader, decided.agentId) ? decided.answer : undefined;
    const pending = this.outbox?.pendingRequest(requestId);
    if (!pending || !mayReadStatus(reader, pending.agentId)) return undefined;
    const waiting: RequestWaiting = {
      requestId,
      state: this.drainer?.buffering ? 'buffered' : 'pending',
    };
    return { status: 202, headers: {}, contentType: 'application/json', body: waiting };
  }

  /** The outbox as GET /v1/cluster and the dashboard show it. */
  view(): OutboxView {
    const outbox = this.outbox;
    if (!outbox) return { state: 'off', depth: 0, bytes: 0 };
    const state = outbox.depth === 0 ? 'idle' : this.drainer?.buffering ? 'buffered' : 'pending';
    return { state, depth: outbox.depth, bytes: outbox.pendingBytes };
  }

  private observeDepth(): void {
    this.metrics.outboxDepth.set(this.outbox?.depth ?? 0);
    this.metrics.outboxBytes.set(this.outbox?.pendingBytes ?? 0);
  }

  async onApplicationShutdown(): Promise<void> {
    this.drainer?.stop();
    await this.outbox?.close();
  }
}
