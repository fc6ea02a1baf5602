import { percentile } from './percentile';

/** What a closed-loop load measured: throughput and latency percentiles of the calls that succeeded. */
export interface LoadResult {
  ok: number;
  failed: number;
  elapsedS: number;
  perSecond: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

/**
 * A bounded closed-loop load: `concurrency` workers call `operation(n)` until `countMax` calls
 * were made or `secondsMax` passed (an operation returns false for a failure). `onProgress`
 * hears of every finished call. Used by the benchmarks and by `parley bench`.
 */
export async function closedLoop(
  concurrency: number,
  countMax: number,
  secondsMax: number,
  operation: (n: number, worker: number) => Promise<boolean>,
  onProgress: (finished: number) => void = () => undefined,
): Promise<LoadResult> {
  const latenciesMs: number[] = [];
  let issued = 0;
  let failed = 0;
  const deadline = Date.now() + secondsMax * 1000;
  const started = process.hrtime.bigint();
  const worker = async (w: number) => {
    while (issued < countMax && Date.now() < deadline) {
      const n = issued;
      issued += 1;
      const sentAt = process.hrtime.bigint();
      if (await operation(n, w)) latenciesMs.push(Number(process.hrtime.bigint() - sentAt) / 1e6);
      else failed += 1;
      onProgress(latenciesMs.length + failed);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  const elapsedS = Number(process.hrtime.bigint() - started) / 1e9;
  latenciesMs.sort((a, b) => a - b);
  const at = (q: number) => percentile(latenciesMs, q) ?? NaN;
  return {
    ok: latenciesMs.length,
    failed,
    elapsedS,
    perSecond: latenciesMs.length / elapsedS,
    p50Ms: at(0.5),
    p90Ms: at(0.9),
    p99Ms: at(0.99),
    p999Ms: at(0.999),
    maxMs: latenciesMs.length > 0 ? latenciesMs[latenciesMs.length - 1] : NaN,
  };
}
