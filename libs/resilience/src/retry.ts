/**
 * Retry with exponential back-off and full jitter (the AWS architecture blog's "full jitter":
 * sleep = random(0, min(cap, base * 2^attempt))), bounded by attempts and by a deadline.
 * Only for idempotent work: the caller promises that running it twice is harmless.
 */
export interface RetryOptions {
  /** Attempts in total, including the first. */
  attemptsMax: number;
  delayMsBase: number;
  delayMsMax: number;
  /** Give up once this much time has passed since the first attempt. */
  deadlineMs: number;
  /** Whether an error is worth another attempt (default: every error). */
  retryable?: (error: unknown) => boolean;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export class RetryExhaustedError extends Error {
  constructor(
    readonly attempts: number,
    readonly lastError: unknown,
  ) {
    super(
      `gave up after ${attempts} attempt(s): ${lastError instanceof Error ? lastError.message : String(lastError)}`,
    );
    this.name = 'RetryExhaustedError';
  }
}

export function backoffDelayMs(
  attempt: number,
  options: Pick<RetryOptions, 'delayMsBase' | 'delayMsMax'>,
  random: () => number,
): number {
  const ceiling = Math.min(options.delayMsMax, options.delayMsBase * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

const defaultSleep = (ms: number) =>
  new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

export async function retry<T>(
  work: (attempt: number) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? defaultSleep;
  const now = options.now ?? Date.now;
  const started = now();
  let lastError: unknown;
  for (let attempt = 0; attempt < options.attemptsMax; attempt += 1) {
    try {
      return await work(attempt);
    } catch (error) {
      lastError = error;
      if (options.retryable && !options.retryable(error)) throw error;
      if (attempt + 1 >= options.attemptsMax) break;
      const delay = backoffDelayMs(attempt, options, random);
      if (now() + delay - started > options.deadlineMs) break;
      await sleep(delay);
    }
  }
  throw new RetryExhaustedError(options.attemptsMax, lastError);
}
