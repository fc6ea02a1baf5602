import CircuitBreaker from 'opossum';

/**
 * Circuit breakers on opossum around every outbound dependency (Kafka, S3, NATS, the leader).
 * When a dependency keeps failing the breaker opens and calls fail fast for `resetTimeoutMs`,
 * then one trial call decides whether it closes again. States are exposed for metrics and
 * readiness through `breakerStates()`.
 */
export interface BreakerOptions {
  name: string;
  /** A call slower than this counts as a failure. */
  timeoutMs: number;
  /** Open when at least this percentage of calls in the window failed. */
  errorThresholdPercentage: number;
  /** Stay open this long before a trial call. */
  resetTimeoutMs: number;
  /** Calls needed in the window before the percentage counts. */
  volumeThreshold: number;
  /**
   * Errors that say nothing about the dependency's health (it answered, just not with a
   * result): they still reach the caller but do not count towards opening the breaker.
   */
  isHealthyError?: (error: unknown) => boolean;
}

export type BreakerState = 'closed' | 'open' | 'half-open';

const registry = new Map<string, CircuitBreaker>();

export function createBreaker<A extends unknown[], R>(
  action: (...args: A) => Promise<R>,
  options: BreakerOptions,
): CircuitBreaker<A, R> {
  const breaker = new CircuitBreaker<A, R>(action, {
    name: options.name,
    timeout: options.timeoutMs,
    errorThresholdPercentage: options.errorThresholdPercentage,
    resetTimeout: options.resetTimeoutMs,
    volumeThreshold: options.volumeThreshold,
    ...(options.isHealthyError ? { errorFilter: options.isHealthyError } : {}),
  });
  registry.set(options.name, breaker as unknown as CircuitBreaker);
  breaker.on('shutdown', () => registry.delete(options.name));
  return breaker;
}

export function breakerState(breaker: CircuitBreaker): BreakerState {
  if (breaker.opened) return 'open';
  if (breaker.halfOpen) return 'half-open';
  return 'closed';
}

/** Every live breaker's state, by name, for /metrics and /health/ready. */
export function breakerStates(): Record<string, BreakerState> {
  const states: Record<string, BreakerState> = {};
  for (const [name, breaker] of [...registry].sort(([a], [b]) => a.localeCompare(b)))
    states[name] = breakerState(breaker);
  return states;
}
