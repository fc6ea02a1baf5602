import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { Answer, BODIES, ClusterView } from '@parley/decision-api-contract';
import {
  ParleyBadRequest,
  ParleyError,
  ParleyNotFound,
  ParleyOutcomeUnknown,
  ParleyUnavailable,
} from './errors';
import { Outbox, OutboxEntry, OutboxOptions } from './outbox';
import { RouteName, ROUTES, RouteParams, StrongWriteRoute, routePath } from './routes';
import { HttpAnswer, Transport } from './transport';
import { DecisionEvent, WatchOptions, watchDecisions } from './watch';
import { pause } from './pause';

/** What a route's body may hold, as the contract's schema documents it (requestId optional). */
export type Body<K extends keyof typeof BODIES> = z.input<(typeof BODIES)[K]['documented']>;
export type BodyOf<R extends RouteName> = (typeof ROUTES)[R] extends {
  body: infer K extends keyof typeof BODIES;
}
  ? Body<K>
  : undefined;

export interface CallOptions {
  signal?: AbortSignal;
  /** This operation's deadline (all attempts and pauses), instead of the client's. */
  deadlineMs?: number;
}

export interface WriteOptions extends CallOptions {
  /** The idempotency key; by default a fresh one per logical operation. */
  requestId?: string;
}

export interface ReadOptions extends CallOptions {
  consistency?: 'linearizable' | 'lease' | 'stale';
  /** Answer from a state at least this far on (read your own write's index). */
  minIndex?: number;
}

/** A command sent with `Prefer: respond-async`, or kept in the client's outbox. */
export type Submission =
  | { requestId: string; state: 'pending' | 'buffered'; location?: string }
  /** No endpoint answered; the command waits in the client outbox and is sent later. */
  | { requestId: string; state: 'queued-locally' }
  | RequestDecided;

/** A command's outcome: the status and body the synchronous call would have answered. */
export interface RequestDecided {
  requestId: string;
  state: 'decided';
  status: number;
  body: unknown;
}

export type RequestStatus = { requestId: string; state: 'pending' | 'buffered' } | RequestDecided;

const positiveInt = z.int().min(1);
const OPTIONS = z.strictObject({
  endpoints: z.union([z.url(), z.array(z.url()).min(1).max(64)]),
  apiKey: z.string().min(1).optional(),
  attemptsMax: positiveInt.max(100).default(6),
  deadlineMs: positiveInt.default(30_000),
  attemptTimeoutMs: positiveInt.default(10_000),
  backoff: z
    .strictObject({ delayMsBase: positiveInt.default(50), delayMsMax: positiveInt.default(2_000) })
    .prefault({}),
  breaker: z
    .strictObject({
      errorThresholdPercentage: z.number().min(1).max(100).default(50),
      resetTimeoutMs: positiveInt.default(2_000),
      volumeThreshold: positiveInt.default(3),
    })
    .prefault({}),
  requestIdPrefix: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{0,24}$/)
    .default('parley'),
  validate: z.boolean().default(true),
  watch: z
    .strictObject({
      silenceMsMax: positiveInt.default(45_000),
      reconnectsMax: positiveInt.max(1_000).default(30),
    })
    .prefault({}),
  outbox: z
    .strictObject({
      entriesMax: positiveInt.max(1_000_000),
      file: z.string().min(1).optional(),
      onDropped: z.function().optional(),
    })
    .optional(),
  random: z.function().optional(),
});

export type ParleyClientOptions = z.input<typeof OPTIONS> & {
  outbox?: OutboxOptions;
  random?: () => number;
};

interface Sent {
  body?: unknown;
  query?: Record<string, string | number | undefined>;
  headers?: Record<string, string>;
  options?: WriteOptions & ReadOptions;
}

/**
 * The Parley client agents import: typed methods for every decision-api route, retries that
 * are safe by construction, failover across endpoints, a resuming watch, accept-now commands
 * and an optional outbox. See README.md's quick start.
 */
export class ParleyClient {
  readonly kv: KvApi;
  readonly inventory: InventoryApi;
  readonly budgets: BudgetsApi;
  readonly proposals: ProposalsApi;
  readonly counters: CountersApi;
  readonly sets: SetsApi;
  readonly flags: FlagsApi;
  readonly cluster: ClusterApi;
  readonly agents: AgentsApi;
  readonly requests: RequestsApi;
  private readonly transport: Transport;
  private readonly settings: z.output<typeof OPTIONS>;
  private readonly random: () => number;
  private readonly outbox: Outbox | undefined;

  constructor(options: ParleyClientOptions) {
    const parsed = OPTIONS.safeParse(options);
    if (!parsed.success)
      throw new ParleyBadRequest(
        `invalid client options: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`,
      );
    this.settings = parsed.data;
    this.random = options.random ?? Math.random;
    const endpoints = [this.settings.endpoints].flat();
    this.transport = new Transport({
      endpoints,
      apiKey: this.settings.apiKey,
      attemptsMax: this.settings.attemptsMax,
      deadlineMs: this.settings.deadlineMs,
      attemptTimeoutMs: this.settings.attemptTimeoutMs,
      backoff: this.settings.backoff,
      breaker: this.settings.breaker,
      random: this.random,
    });
    this.outbox = options.outbox
      ? new Outbox(
          options.outbox,
          (entry) => this.resend(entry),
          this.settings.backoff,
          this.random,
        )
      : undefined;
    this.kv = new KvApi(this);
    this.inventory = new InventoryApi(this);
    this.budgets = new BudgetsApi(this);
    this.proposals = new ProposalsApi(this);
    this.counters = new CountersApi(this);
    this.sets = new SetsApi(this);
    this.flags = new FlagsApi(this);
    this.cluster = new ClusterApi(this);
    this.agents = new AgentsApi(this);
    this.requests = new RequestsApi(this);
  }

  /** A fresh request id: one per logical operation, reused by every retry of it. */
  newRequestId(): string {
    return `${this.settings.requestIdPrefix}-${randomUUID()}`;
  }

  /** The endpoints' breaker states, in the order given (for an agent's own health checks). */
  endpointStates(): { url: string; open: boolean }[] {
    return this.transport.pool.endpoints.map((e) => ({ url: e.baseUrl, open: e.open }));
  }

  /** Commands waiting in the client outbox (0 without one). */
  get outboxSize(): number {
    return this.outbox?.size ?? 0;
  }

  /** Resolves once the client outbox is empty. */
  async outboxDrained(): Promise<void> {
    await this.outbox?.drained();
  }

  /**
   * Every committed decision after `fromIndex`, in log order, resuming itself after any
   * disconnect. Throws ParleyCompacted when the resume point is no longer kept.
   */
  watch(options: WatchOptions = {}): AsyncGenerator<DecisionEvent, void, undefined> {
    return watchDecisions(
      this.transport,
      {
        backoff: this.settings.backoff,
        random: this.random,
        silenceMsMax: this.settings.watch.silenceMsMax,
        reconnectsMax: this.settings.watch.reconnectsMax,
      },
      options,
    );
  }

  /**
   * Sends a strong write with `Prefer: respond-async`: answered once the command is queued,
   * decided later (requests.waitFor). With an outbox configured, a command no endpoint took is
   * kept and sent again with back-off (state `queued-locally`).
   */
  async submitAsync<R extends StrongWriteRoute>(
    route: R,
    params: RouteParams<R>,
    body: BodyOf<R>,
    options: WriteOptions & { query?: Record<string, string | number | undefined> } = {},
  ): Promise<Submission> {
    const prepared = this.prepare(route, params as Record<string, string>, {
      body,
      query: options.query,
      headers: { prefer: 'respond-async' },
      options,
    });
    const requestId = prepared.requestId!;
    try {
      const answer = await this.transport.send(prepared);
      return submission(requestId, answer);
    } catch (error) {
      if (
        this.outbox &&
        (error instanceof ParleyUnavailable || error instanceof ParleyOutcomeUnknown)
      ) {
        this.outbox.add({
          method: prepared.method,
          path: prepared.path,
          body: prepared.body,
          headers: prepared.headers,
          requestId,
          queuedAtMs: Date.now(),
        });
        return { requestId, state: 'queued-locally' };
      }
      throw error;
    }
  }

  /** Stops the breakers and the outbox's drain; the client is not usable afterwards. */
  close(): void {
    this.outbox?.close();
    this.transport.close();
  }

  /** @internal One route, with its body checked and its request id in place. */
  async call<T>(route: RouteName, params: Record<string, string>, sent: Sent = {}): Promise<T> {
    return (await this.send<T>(route, params, sent)).body;
  }

  /** @internal Like call, with the status and headers. */
  send<T>(
    route: RouteName,
    params: Record<string, string>,
    sent: Sent = {},
  ): Promise<HttpAnswer<T>> {
    return this.transport.send<T>(this.prepare(route, params, sent));
  }

  private prepare(route: RouteName, params: Record<string, string>, sent: Sent) {
    const spec = ROUTES[route];
    let path: string;
    try {
      path = routePath(route, params);
    } catch (error) {
      throw new ParleyBadRequest((error as Error).message);
    }
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(sent.query ?? {}))
      if (value !== undefined) query.set(name, String(value));
    if (query.size > 0) path += `?${query}`;
    const headers: Record<string, string> = { ...sent.headers };
    let body = sent.body;
    let requestId: string | undefined;
    if ('strong' in spec) {
      const given = (body as { requestId?: string } | undefined)?.requestId;
      requestId = sent.options?.requestId ?? given ?? this.newRequestId();
      if (spec.strong === 'body') body = { ...(body as object), requestId };
      else headers['idempotency-key'] = requestId;
    }
    if ('body' in spec && this.settings.validate) {
      const checked = BODIES[spec.body].validated.safeParse(body ?? {});
      if (!checked.success)
        throw new ParleyBadRequest(
          `${spec.method} ${path}: ${checked.error.issues.map((i) => `${i.path.join('.') || 'body'} ${i.message}`).join('; ')} (checked by the client; not sent)`,
          {
            status: 400,
            requestId,
            operation: `${spec.method} ${path.split('?')[0]}`,
            problem: {
              title: 'Bad Request',
              status: 400,
              errors: checked.error.issues.map((i) => `${i.path.join('.') || 'body'} ${i.message}`),
            },
          },
        );
    }
    return {
      method: spec.method,
      path,
      body: 'body' in spec ? (body ?? {}) : undefined,
      headers,
      safety: spec.safety,
      requestId,
      signal: sent.options?.signal,
      deadlineMs: sent.options?.deadlineMs,
    };
  }

  /** The outbox's way of sending a kept command: the same request, the same requestId. */
  private async resend(entry: OutboxEntry): Promise<void> {
    await this.transport.send({ ...entry, safety: 'idempotent' });
  }

  /** @internal Polls `check` with back-off until it answers, for when no watch is served. */
  async poll<T>(check: () => Promise<T | undefined>, signal?: AbortSignal): Promise<T> {
    for (let n = 0; ; n += 1) {
      const done = await check();
      if (done !== undefined) return done;
      if (signal?.aborted)
        throw new ParleyUnavailable('aborted while waiting', { cause: signal.reason });
      await pause(
        Math.min(this.settings.backoff.delayMsMax, this.settings.backoff.delayMsBase * 2 ** n),
        signal,
      );
    }
  }
}

function submission(requestId: string, answer: HttpAnswer): Submission {
  if (answer.status === 202) {
    const state = (answer.body as { state?: string } | undefined)?.state;
    return {
      requestId,
      state: state === 'buffered' ? 'buffered' : 'pending',
      ...(answer.headers.get('location') ? { location: answer.headers.get('location')! } : {}),
    };
  }
  // A server without respond-async decided at once.
  return { requestId, state: 'decided', status: answer.status, body: answer.body };
}

const readQuery = (options: ReadOptions = {}) => ({
  consistency: options.consistency,
  minIndex: options.minIndex,
});

class Resource {
  constructor(protected readonly client: ParleyClient) {}
}

export class KvApi extends Resource {
  get(key: string, options?: ReadOptions) {
    return this.client.call<Answer<'kvEntry'>>(
      'kv.get',
      { key },
      { query: readQuery(options), options },
    );
  }

  put(key: string, value: string, options: WriteOptions & { ifVersion?: number } = {}) {
    const { ifVersion } = options;
    return this.client.call<Answer<'kvEntry'>>(
      'kv.put',
      { key },
      { body: { value, ...(ifVersion === undefined ? {} : { ifVersion }) }, options },
    );
  }

  delete(key: string, options: WriteOptions & { ifVersion?: number } = {}) {
    return this.client.call<Answer<'kvDeleted'>>(
      'kv.delete',
      { key },
      { query: { ifVersion: options.ifVersion }, options },
    );
  }
}

export class InventoryApi extends Resource {
  get(sku: string, options?: ReadOptions) {
    return this.client.call<Answer<'inventory'>>(
      'inventory.get',
      { sku },
      { query: readQuery(options), options },
    );
  }

  restock(sku: string, quantity: number, options?: WriteOptions) {
    return this.client.call<Answer<'stock'>>(
      'inventory.restock',
      { sku },
      { body: { quantity }, options },
    );
  }

  /** A reservation is a decision: `status` is accepted or rejected (with a reason). */
  reserve(sku: string, body: Body<'reserve'>, options?: WriteOptions) {
    return this.client.call<Answer<'reservation'>>('inventory.reserve', { sku }, { body, options });
  }

  release(sku: string, orderId: string, options?: WriteOptions) {
    return this.client.call<Answer<'release'>>('inventory.release', { sku, orderId }, { options });
  }
}

export class BudgetsApi extends Resource {
  get(campaign: string, options?: ReadOptions) {
    return this.client.call<Answer<'budget'>>(
      'budgets.get',
      { campaign },
      { query: readQuery(options), options },
    );
  }

  set(campaign: string, limit: number, options?: WriteOptions) {
    return this.client.call<Answer<'budget'>>(
      'budgets.set',
      { campaign },
      { body: { limit }, options },
    );
  }

  /** A spend is a decision: `status` is accepted or rejected (over-budget, bid-exists, …). */
  spend(campaign: string, body: Body<'spend'>, options?: WriteOptions) {
    return this.client.call<Answer<'spend'>>('budgets.spend', { campaign }, { body, options });
  }
}

export class ProposalsApi extends Resource {
  create(body: Body<'propose'>, options?: WriteOptions) {
    return this.client.call<Answer<'proposalCreated'>>('proposals.create', {}, { body, options });
  }

  vote(proposalId: string, body: Body<'vote'>, options?: WriteOptions) {
    return this.client.call<Answer<'vote'>>(
      'proposals.vote',
      { id: proposalId },
      { body, options },
    );
  }

  get(proposalId: string, options?: ReadOptions) {
    return this.client.call<Answer<'proposal'>>(
      'proposals.get',
      { id: proposalId },
      { query: readQuery(options), options },
    );
  }

  /**
   * Resolves with the proposal once decided or expired (by the last vote or at its deadline),
   * on the watch stream (polling with back-off where no watch is served).
   */
  async waitForOutcome(proposalId: string, options: CallOptions = {}): Promise<Answer<'proposal'>> {
    const settled = async () => {
      const proposal = await this.get(proposalId, options);
      return proposal.status === 'open' ? undefined : proposal;
    };
    return waitOnWatch(
      this.client,
      { prefix: `proposals/${proposalId}`, signal: options.signal },
      (event) => event.entity === `proposals/${proposalId}`,
      settled,
    );
  }
}

export class CountersApi extends Resource {
  /**
   * Eventual and not idempotent: retried only when no server can have seen it (connection
   * refused, 429); otherwise a lost answer is ParleyOutcomeUnknown, never a double count.
   */
  increment(name: string, delta = 1, options?: CallOptions) {
    return this.client.call<Answer<'eventualAccepted'>>(
      'counters.increment',
      { name },
      { body: { delta }, options },
    );
  }

  get(name: string, options?: CallOptions) {
    return this.client.call<Answer<'counter'>>('counters.get', { name }, { options });
  }
}

export class SetsApi extends Resource {
  add(name: string, element: string, options?: CallOptions) {
    return this.client.call<Answer<'eventualAccepted'>>(
      'sets.add',
      { name },
      { body: { element }, options },
    );
  }

  remove(name: string, element: string, options?: CallOptions) {
    return this.client.call<Answer<'eventualAccepted'>>(
      'sets.remove',
      { name, element },
      { options },
    );
  }

  get(name: string, options?: CallOptions) {
    return this.client.call<Answer<'set'>>('sets.get', { name }, { options });
  }
}

export class FlagsApi extends Resource {
  set(name: string, value: unknown, options?: CallOptions) {
    return this.client.call<Answer<'eventualAccepted'>>(
      'flags.set',
      { name },
      { body: { value }, options },
    );
  }

  get(name: string, options?: CallOptions) {
    return this.client.call<Answer<'flag'>>('flags.get', { name }, { options });
  }
}

export class ClusterApi extends Resource {
  get(options?: CallOptions) {
    return this.client.call<ClusterView>('cluster.get', {}, { options });
  }

  transferLeadership(body: Body<'transfer'> = {}, options?: CallOptions) {
    return this.client.call<Answer<'transfer'>>(
      'cluster.transferLeadership',
      {},
      { body, options },
    );
  }

  addMember(body: Body<'member'>, options?: CallOptions) {
    return this.client.call<Answer<'membership'>>('cluster.addMember', {}, { body, options });
  }

  removeMember(id: string, options: CallOptions & { force?: boolean } = {}) {
    return this.client.call<Answer<'membership'>>(
      'cluster.removeMember',
      { id },
      { query: { force: options.force ? 'true' : undefined }, options },
    );
  }

  snapshot(options?: CallOptions) {
    return this.client.call<Answer<'snapshot'>>('cluster.snapshot', {}, { options });
  }
}

export class AgentsApi extends Resource {
  list(options?: CallOptions) {
    return this.client.call<Answer<'agents'>>('agents.list', {}, { options });
  }
}

export class RequestsApi extends Resource {
  /**
   * A command's state by its requestId: pending, or decided with the status and body the
   * synchronous call would have answered (a refusal too: a 409 is an outcome here, not an
   * error). ParleyNotFound for an id the cluster does not know.
   */
  async get(requestId: string, options?: CallOptions): Promise<RequestStatus> {
    try {
      const answer = await this.client.send<Record<string, unknown>>(
        'requests.get',
        { requestId },
        { options },
      );
      if (answer.status === 202)
        return { requestId, state: answer.body?.state === 'buffered' ? 'buffered' : 'pending' };
      return { requestId, state: 'decided', status: answer.status, body: answer.body };
    } catch (error) {
      if (
        error instanceof ParleyError &&
        !(error instanceof ParleyNotFound) &&
        error.status !== undefined &&
        error.status >= 400 &&
        error.status < 500 &&
        ![401, 403, 429].includes(error.status)
      )
        return { requestId, state: 'decided', status: error.status, body: error.problem };
      throw error;
    }
  }

  /** Resolves with the command's outcome once decided (on the watch; polling without one). */
  async waitFor(requestId: string, options: CallOptions = {}): Promise<RequestDecided> {
    const decided = async () => {
      const status = await this.get(requestId, options);
      return status.state === 'decided' ? status : undefined;
    };
    return waitOnWatch(
      this.client,
      { signal: options.signal },
      (event) => event.requestId === requestId,
      decided,
    );
  }
}

/**
 * Waits until `settled` answers: it is asked once the watch is connected (so nothing decided
 * after that is missed), then again whenever an event `matches`. Where the server has no watch
 * route (404), polls `settled` with back-off instead.
 */
async function waitOnWatch<T>(
  client: ParleyClient,
  watchOptions: WatchOptions,
  matches: (event: DecisionEvent) => boolean,
  settled: () => Promise<T | undefined>,
): Promise<T> {
  const stop = new AbortController();
  const signal = watchOptions.signal
    ? AbortSignal.any([watchOptions.signal, stop.signal])
    : stop.signal;
  let events: AsyncGenerator<DecisionEvent, void, undefined> | undefined;
  try {
    // Look only once the stream is open: whatever is decided after the look is on the stream.
    let connected!: () => void;
    const open = new Promise<void>((resolve) => (connected = resolve));
    events = client.watch({ ...watchOptions, signal, onConnected: () => connected() });
    const first = events.next();
    await Promise.race([open, first]);
    const now = await settled();
    if (now !== undefined) return now;
    let next = first;
    for (;;) {
      const step = await next;
      if (step.done) throw new ParleyUnavailable('the watch ended before the outcome');
      if (matches(step.value)) {
        const outcome = await settled();
        if (outcome !== undefined) return outcome;
      }
      next = events.next();
    }
  } catch (error) {
    if (error instanceof ParleyNotFound && (error.problem?.instance ?? '').startsWith('/v1/watch'))
      return client.poll(settled, watchOptions.signal);
    throw error;
  } finally {
    stop.abort();
    void events?.return(undefined);
  }
}
