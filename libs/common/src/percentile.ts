/** Nearest-rank percentile of ascending `sorted` values (quantile in 0..1); null when empty. */
export function percentile(sorted: readonly number[], quantile: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(quantile * sorted.length) - 1));
  return sorted[rank];
}
