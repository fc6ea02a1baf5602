import { Metrics } from './metrics';

const CONSISTENCIES = new Set(['linearizable', 'lease', 'stale']);

interface TimedRequest {
  method: string;
  route?: { path: string };
  query?: Record<string, unknown>;
  url: string;
}

/**
 * Observes every request's latency when its answer has been written: route pattern (never the
 * raw path, so keys do not become labels), final status (after the exception filter, so errors
 * count as what the caller saw) and consistency class (only the three known ones, so a caller
 * cannot grow the label set). A plain 'finish' listener rather than a Nest interceptor: the
 * interceptor chain costs an Observable and async-resource bindings on every request.
 */
export function requestMetrics(metrics: Metrics) {
  return (
    request: TimedRequest,
    response: { statusCode: number; on(event: 'finish', fn: () => void): void },
    next: () => void,
  ): void => {
    const started = process.hrtime.bigint();
    response.on('finish', () => {
      const consistency = consistencyOf(request);
      metrics.requestSeconds.observe(
        {
          method: request.method,
          route: request.route?.path ?? 'unknown',
          status: String(response.statusCode),
          consistency,
        },
        Number(process.hrtime.bigint() - started) / 1e9,
      );
    });
    next();
  };
}

function consistencyOf(request: TimedRequest): string {
  const given = request.query?.consistency;
  return typeof given === 'string' && CONSISTENCIES.has(given) ? given : 'default';
}
