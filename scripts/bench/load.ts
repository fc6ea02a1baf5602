/**
 * A bounded closed-loop load: `concurrency` workers call `operation(n)` until `countMax` calls
 * were made or `secondsMax` passed; returns throughput and latency percentiles of the calls that
 * succeeded (an operation returns false for a failure).
 */
export interface LoadResult {
  ok: number;
  failed: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

export async function closedLoop(
  concurrency: number,
  countMax: number,
  secondsMax: number,
  operation: (n: number, worker: number) => Promise<boolean>,
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
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  const elapsedS = Number(process.hrtime.bigint() - started) / 1e9;
  latenciesMs.sort((a, b) => a - b);
  const at = (p: number) =>
    latenciesMs[Math.min(latenciesMs.length - 1, Math.floor(p * latenciesMs.length))] ?? NaN;
  return {
    ok: latenciesMs.length,
    failed,
    perSecond: latenciesMs.length / elapsedS,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
  };
}

export function formatLoad(label: string, concurrency: number, r: LoadResult): string {
  return (
    `${label} clients=${String(concurrency).padStart(2)}  ok=${r.ok} failed=${r.failed}  ` +
    `${r.perSecond.toFixed(0)}/s  p50=${r.p50Ms.toFixed(2)}ms  p99=${r.p99Ms.toFixed(2)}ms`
  );
}
