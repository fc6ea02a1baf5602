import { percentile } from '@parley/common';

/** One strong decision this decision-api took, with its latency. */
export interface TakenDecision {
  type: string;
  subject: string;
  outcome: string;
  index: number;
  latencyMs: number;
}

/** One second of decisions: how many, and their latency percentiles. */
export interface SecondOfActivity {
  at: number;
  decisions: number;
  p50Ms: number | null;
  p99Ms: number | null;
}

/** At most this many latencies are kept per second; beyond it a reservoir keeps a fair sample. */
const SAMPLES_PER_SECOND = 2_048;

/**
 * The strong decisions this decision-api took, for the dashboard: a per-second series (count,
 * p50, p99) over the last `windowSeconds`. (The list of recent decisions comes from the watch,
 * so it shows those taken through every decision-api and Kafka.) Memory is bounded whatever
 * the load: a fixed number of seconds, each with a bounded latency sample.
 */
export class DecisionActivity {
  private readonly seconds = new Map<number, { count: number; latencies: number[] }>();
  private sampled = 0;

  constructor(
    private readonly now: () => number = Date.now,
    private readonly windowSeconds = 60,
    private readonly random: () => number = Math.random,
  ) {}

  record(decision: TakenDecision): void {
    const at = this.now();
    const second = Math.floor(at / 1_000);
    let bucket = this.seconds.get(second);
    if (!bucket) {
      bucket = { count: 0, latencies: [] };
      this.seconds.set(second, bucket);
      this.forgetBefore(second - this.windowSeconds);
    }
    bucket.count += 1;
    this.sampled += 1;
    if (bucket.latencies.length < SAMPLES_PER_SECOND) bucket.latencies.push(decision.latencyMs);
    else {
      // Reservoir sampling keeps every latency of the second equally likely to be kept.
      const slot = Math.floor(this.random() * bucket.count);
      if (slot < SAMPLES_PER_SECOND) bucket.latencies[slot] = decision.latencyMs;
    }
  }

  /** The last `windowSeconds` whole seconds, oldest first, with empty seconds as zero. */
  series(): SecondOfActivity[] {
    const current = Math.floor(this.now() / 1_000);
    const series: SecondOfActivity[] = [];
    for (let second = current - this.windowSeconds; second < current; second += 1) {
      const bucket = this.seconds.get(second);
      const sorted = bucket ? [...bucket.latencies].sort((a, b) => a - b) : [];
      series.push({
        at: second * 1_000,
        decisions: bucket?.count ?? 0,
        p50Ms: percentile(sorted, 0.5),
        p99Ms: percentile(sorted, 0.99),
      });
    }
    return series;
  }

  /** Decisions recorded since this process started. */
  get total(): number {
    return this.sampled;
  }

  private forgetBefore(second: number): void {
    for (const kept of this.seconds.keys()) if (kept < second) this.seconds.delete(kept);
  }
}
