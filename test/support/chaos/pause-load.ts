/**
 * Closed-loop clients against decision-api that record when each request was answered
 * successfully, so that a test can measure the longest stretch with no successful answer while a
 * replica is paused (SIGSTOP): what a client of the cluster sees as a stall.
 */

export interface ClosedLoopOptions {
  /** decision-api's base URL. */
  base: string;
  apiKey: string;
  /** Concurrent clients; each sends its next request when the previous one is answered. */
  clients: number;
  /** Request `i` of client `c`; every retry of it sends the same body (the same requestId). */
  request: (c: number, i: number) => { method: string; path: string; body?: unknown };
}

export interface ClosedLoop {
  /** performance.now() of every successful answer, in order of arrival. */
  readonly successesAt: number[];
  /** Answers other than success, by status (`error` for transport errors), for the report. */
  readonly failures: Map<string, number>;
  /** Stops the clients and waits for their requests in flight. */
  stop(): Promise<void>;
}

/** Retry-After of a 503 is honoured up to this (the usual client rule, kept short for a test). */
const RETRY_AFTER_MS_MAX = 1_000;
/** Pause after a 504 or a transport error before sending again with the same requestId. */
const RETRY_DELAY_MS = 50;
/** A request answered slower than this counts as a transport error (and is retried). */
const REQUEST_TIMEOUT_MS = 20_000;

/**
 * Starts `clients` closed-loop clients. Each request is retried with the same body (and so the
 * same requestId) until it succeeds: 503 after its Retry-After, 504 and transport errors after a
 * short pause — the retry rule of the API's contract.
 */
export function startClosedLoop(options: ClosedLoopOptions): ClosedLoop {
  const successesAt: number[] = [];
  const failures = new Map<string, number>();
  let stopping = false;
  const count = (status: string) => failures.set(status, (failures.get(status) ?? 0) + 1);
  const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  const client = async (c: number) => {
    for (let i = 0; !stopping; i += 1) {
      const { method, path, body } = options.request(c, i);
      while (!stopping) {
        let status: number | 'error';
        let retryAfterS = 0;
        try {
          const response = await fetch(`${options.base}${path}`, {
            method,
            headers: {
              authorization: `Bearer ${options.apiKey}`,
              'content-type': 'application/json',
            },
            body: body === undefined ? undefined : JSON.stringify(body),
            signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
          });
          await response.arrayBuffer();
          status = response.status;
          retryAfterS = Number(response.headers.get('retry-after') ?? 0);
        } catch {
          status = 'error';
        }
        if (typeof status === 'number' && status < 300) {
          successesAt.push(performance.now());
          break;
        }
        count(String(status));
        if (typeof status === 'number' && status < 500 && status !== 429)
          throw new Error(`${method} ${path} answered ${status}`);
        await wait(
          status === 503 || status === 429
            ? Math.min(retryAfterS * 1_000, RETRY_AFTER_MS_MAX)
            : RETRY_DELAY_MS,
        );
      }
    }
  };
  const running = Promise.all(Array.from({ length: options.clients }, (_, c) => client(c)));
  return {
    successesAt,
    failures,
    stop: async () => {
      stopping = true;
      await running;
    },
  };
}

/**
 * The longest stretch of [fromMs, toMs] with no success in it: the first success after fromMs
 * (or toMs), the gaps between successes, and toMs after the last one.
 */
export function longestStretchWithoutSuccessMs(
  successesAt: readonly number[],
  fromMs: number,
  toMs: number,
): number {
  const inside = successesAt.filter((at) => at >= fromMs && at <= toMs).sort((a, b) => a - b);
  let longest = 0;
  let previous = fromMs;
  for (const at of [...inside, toMs]) {
    longest = Math.max(longest, at - previous);
    previous = at;
  }
  return Math.round(longest);
}
