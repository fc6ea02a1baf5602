import { LoadResult } from '@parley/common';

export { closedLoop, type LoadResult } from '@parley/common';

export function formatLoad(label: string, concurrency: number, r: LoadResult): string {
  return (
    `${label} clients=${String(concurrency).padStart(2)}  ok=${r.ok} failed=${r.failed}  ` +
    `${r.perSecond.toFixed(0)}/s  p50=${r.p50Ms.toFixed(2)}ms  p99=${r.p99Ms.toFixed(2)}ms`
  );
}
