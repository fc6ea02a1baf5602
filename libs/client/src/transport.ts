import {
  ParleyError,
  ParleyOutcomeUnknown,
  ParleyUnavailable,
  Problem,
  errorForAnswer,
} from './errors';
import { Endpoint, EndpointFailure, EndpointPool, isBreakerOpen } from './endpoints';
import {
  AttemptFailure,
  BackoffOptions,
  Safety,
  judgeAttempt,
  parseRetryAfter,
  retryDelayMs,
} from './retry-policy';
import type { BreakerSettings } from './endpoints';
import { pause } from './pause';

/**
 * One logical operation over HTTP: attempts across the endpoints, each through its endpoint's
 * breaker, retried only where judgeAttempt says it is safe, paced by back-off and Retry-After,
 * bounded by attempts and by a deadline (and the caller's AbortSignal). The request id stays
 * the same on every attempt, so the cluster applies a write at most once.
 */
export interface TransportSettings {
  endpoints: string[];
  apiKey?: string;
  attemptsMax: number;
  deadlineMs: number;
  attemptTimeoutMs: number;
  backoff: BackoffOptions;
  breaker: BreakerSettings;
  random: () => number;
}

export interface HttpRequest {
  method: string;
  /** Path and query, e.g. `/v1/kv/colour?consistency=lease`. */
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  safety: Safety;
  requestId?: string;
  signal?: AbortSignal;
  /** This operation's deadline, instead of the client's. */
  deadlineMs?: number;
  attemptsMax?: number;
}

export interface HttpAnswer<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  endpoint: string;
}

/** What one exchange gave back: an answer (any status) or a response still streaming. */
interface RawAnswer {
  status: number;
  headers: Headers;
  text: string;
}

/** Errors before the request left: nothing can have been applied. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);
const TRACE_ID = /^[A-Za-z0-9._:-]{1,64}$/;

function failureOfFetch(error: unknown): { kind: 'not-sent' | 'lost'; code: string } {
  const cause = (error as { cause?: { code?: string; name?: string } }).cause;
  const code = cause?.code ?? (error as Error).name ?? 'unknown';
  return { kind: NOT_SENT_CODES.has(code) ? 'not-sent' : 'lost', code };
}

export class Transport {
  readonly pool: EndpointPool;

  constructor(private readonly settings: TransportSettings) {
    if (settings.endpoints.length === 0) throw new Error('at least one endpoint is required');
    this.pool = new EndpointPool(settings.endpoints, settings.breaker, settings.attemptTimeoutMs);
  }

  /** A 2xx answer with its JSON body, or the typed error of the last failure. */
  async send<T = unknown>(request: HttpRequest): Promise<HttpAnswer<T>> {
    const { answer, endpoint } = await this.attempts(request, (endpoint, signal) =>
      this.exchange(endpoint, request, signal, true),
    );
    const raw = answer as RawAnswer;
    return { status: raw.status, headers: raw.headers, body: parseBody(raw) as T, endpoint };
  }

  /**
   * Opens a streaming response (the watch): the same attempts and failover, but the body is
   * left unread; only the time to the response's head is bounded by the attempt timeout.
   */
  async open(request: HttpRequest): Promise<{ response: Response; endpoint: string }> {
    const { answer, endpoint } = await this.attempts(request, (endpoint, signal) =>
      this.exchange(endpoint, request, signal, false),
    );
    return { response: answer as Response, endpoint };
  }

  close(): void {
    this.pool.close();
  }

  private headers(request: HttpRequest): Record<string, string> {
    return {
      ...(this.settings.apiKey ? { authorization: `Bearer ${this.settings.apiKey}` } : {}),
      ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(request.requestId && TRACE_ID.test(request.requestId)
        ? { 'x-request-id': request.requestId }
        : {}),
      ...request.headers,
    };
  }

  /**
   * One attempt on one endpoint. An answer that says the endpoint cannot serve now (502, 503,
   * 504) or no answer at all rejects with EndpointFailure, which counts against its breaker.
   */
  private async exchange(
    endpoint: Endpoint,
    request: HttpRequest,
    operation: AbortSignal,
    readBody: boolean,
  ): Promise<RawAnswer | Response> {
    return endpoint.fire(async (baseUrl) => {
      // Aborted by the attempt timeout or the operation's end while waiting for the answer's
      // head; a stream's body then lives on until the caller's own signal ends it.
      const attempt = new AbortController();
      const abort = () => attempt.abort();
      const timer = setTimeout(abort, this.settings.attemptTimeoutMs);
      operation.addEventListener('abort', abort, { once: true });
      const release = () => {
        clearTimeout(timer);
        operation.removeEventListener('abort', abort);
      };
      let response: Response;
      try {
        response = await fetch(new URL(request.path, baseUrl), {
          method: request.method,
          headers: this.headers(request),
          body: request.body === undefined ? undefined : JSON.stringify(request.body),
          signal: request.signal
            ? AbortSignal.any([attempt.signal, request.signal])
            : attempt.signal,
        });
      } catch (error) {
        release();
        throw new EndpointFailure(`${baseUrl}: ${(error as Error).message}`, {
          fetchError: error,
        });
      }
      if (!readBody && response.ok) {
        release();
        return response;
      }
      let text: string;
      try {
        text = await response.text();
      } catch (error) {
        throw new EndpointFailure(`${baseUrl}: answer cut off`, { fetchError: error });
      } finally {
        release();
      }
      const raw = { status: response.status, headers: response.headers, text };
      if (response.status === 502 || response.status === 503 || response.status === 504)
        throw new EndpointFailure(`${baseUrl} answered ${response.status}`, { raw });
      return raw;
    });
  }

  private async attempts<T>(
    request: HttpRequest,
    attempt: (endpoint: Endpoint, signal: AbortSignal) => Promise<T>,
  ): Promise<{ answer: T; endpoint: string }> {
    const deadlineMs = request.deadlineMs ?? this.settings.deadlineMs;
    const attemptsMax = request.attemptsMax ?? this.settings.attemptsMax;
    const started = Date.now();
    const operation = AbortSignal.any([
      AbortSignal.timeout(deadlineMs),
      ...(request.signal ? [request.signal] : []),
    ]);
    let shift = 0;
    let mayHaveApplied = false;
    let last: { failure: AttemptFailure; error: ParleyError } | undefined;
    for (let n = 0; n < attemptsMax; n += 1) {
      const endpoint = this.pool.pick(shift);
      const context = {
        requestId: request.requestId,
        operation: `${request.method} ${request.path.split('?')[0]}`,
        endpoint: endpoint.baseUrl,
        attempts: n + 1,
      };
      let failure: AttemptFailure;
      let error: ParleyError;
      try {
        const answer = await attempt(endpoint, operation);
        const raw = answer as RawAnswer | Response;
        if (raw.status < 400) {
          this.pool.answered(endpoint);
          return { answer, endpoint: endpoint.baseUrl };
        }
        // A definite answer: healthy endpoint, error status (4xx, or 5xx other than 502-504).
        ({ failure, error } = this.answerFailure(raw as RawAnswer, context));
      } catch (thrown) {
        if (thrown instanceof EndpointFailure && (thrown.payload as { raw?: RawAnswer }).raw)
          ({ failure, error } = this.answerFailure(
            (thrown.payload as { raw: RawAnswer }).raw,
            context,
          ));
        else if (isBreakerOpen(thrown)) {
          failure = { kind: 'not-sent' };
          // The failure that opened the breaker says more than "circuit open".
          error =
            last?.error ??
            new ParleyUnavailable(`${endpoint.baseUrl}: circuit open`, {
              ...context,
              cause: thrown,
            });
        } else {
          const fetchError = (thrown as EndpointFailure).payload
            ? ((thrown as EndpointFailure).payload as { fetchError: unknown }).fetchError
            : thrown;
          const { kind, code } = failureOfFetch(fetchError);
          failure = { kind };
          error = new ParleyUnavailable(`cannot reach ${endpoint.baseUrl} (${code})`, {
            ...context,
            cause: fetchError,
          });
        }
      }
      const verdict = judgeAttempt(request.safety, failure);
      mayHaveApplied ||= verdict.mayHaveApplied;
      last = { failure, error };
      if (operation.aborted || !verdict.retry) break;
      if (verdict.failover) shift += 1;
      const delay = retryDelayMs(n, failure, this.settings.backoff, this.settings.random);
      if (n + 1 >= attemptsMax || Date.now() + delay - started > deadlineMs) break;
      await pause(delay, operation);
      if (operation.aborted) break;
    }
    throw this.giveUp(last!, mayHaveApplied, request, operation);
  }

  private answerFailure(
    raw: RawAnswer,
    context: { requestId?: string; operation: string; endpoint: string; attempts: number },
  ): { failure: AttemptFailure; error: ParleyError } {
    const retryAfterMs = parseRetryAfter(raw.headers.get('retry-after'), Date.now());
    const parsed = parseBody(raw);
    const problem: Problem =
      parsed && typeof parsed === 'object' ? (parsed as Problem) : { detail: String(parsed ?? '') };
    return {
      failure: { kind: 'answer', status: raw.status, retryAfterMs },
      error: errorForAnswer(raw.status, problem, { ...context, retryAfterMs }),
    };
  }

  /** The error of an operation that ran out of attempts, time, or retryable failures. */
  private giveUp(
    last: { failure: AttemptFailure; error: ParleyError },
    mayHaveApplied: boolean,
    request: HttpRequest,
    operation: AbortSignal,
  ): ParleyError {
    const definite =
      last.failure.kind === 'answer' && !judgeAttempt(request.safety, last.failure).retry;
    // A definite answer (a 4xx) speaks for itself even after a lost attempt: a retry carries the
    // same requestId, so had the lost one been applied, this answer would be its replay.
    if (definite) return last.error;
    const why = operation.aborted ? ' (deadline passed or aborted)' : '';
    if (mayHaveApplied && !(last.error instanceof ParleyOutcomeUnknown))
      return new ParleyOutcomeUnknown(
        `${request.method} ${request.path.split('?')[0]}: outcome unknown after ${last.error.attempts} attempt(s)${why}; retry with requestId ${request.requestId ?? '(none)'}: ${last.error.message}`,
        {
          ...last.error,
          problem: last.error.problem,
          status: last.error.status,
          cause: last.error,
        },
      );
    if (why && !(last.error instanceof ParleyOutcomeUnknown))
      return new ParleyUnavailable(`${last.error.message}${why}`, {
        ...last.error,
        problem: last.error.problem,
        status: last.error.status,
        cause: last.error,
      });
    return last.error;
  }
}

function parseBody(raw: RawAnswer): unknown {
  if (raw.text === '') return undefined;
  try {
    return JSON.parse(raw.text);
  } catch {
    return raw.text;
  }
}
