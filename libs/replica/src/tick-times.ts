import { assert } from '@parley/common';

/**
 * When each recent Raft tick happened, on a monotonic clock, so that a leader can check its
 * lease in real time as well as in ticks. The two differ when the event loop stalls: Node fires
 * one late interval callback for a stretch of missed ones, so the leader's tick count falls
 * behind while its followers, which count their election timeouts in real time, may already
 * have elected someone else. A lease read must not trust the tick count alone then.
 *
 * Bounded: a ring of the last `capacity` ticks; an older tick's time is unknown.
 */
export class TickTimes {
  private readonly times: Float64Array;
  private newest = -1;

  constructor(readonly capacity: number) {
    assert(Number.isInteger(capacity) && capacity > 0, 'TickTimes capacity must be positive');
    this.times = new Float64Array(capacity);
  }

  /** Tick `tick` (one more than the last recorded, or the first) happened at `atMs`. */
  record(tick: number, atMs: number): void {
    assert(this.newest < 0 || tick === this.newest + 1, 'ticks are recorded in order');
    this.times[tick % this.capacity] = atMs;
    this.newest = tick;
  }

  /** When `tick` happened, or undefined when it is not among the last `capacity` recorded. */
  timeOf(tick: number): number | undefined {
    if (tick < 0 || tick > this.newest || tick <= this.newest - this.capacity) return undefined;
    return this.times[tick % this.capacity];
  }
}

/**
 * Whether a lease that started at the tick sent at `leaseStartMs` still holds at `nowMs`: the
 * followers that echoed it wait at least `(electionTicks - 1)` tick periods of real time before
 * they vote for another leader; `driftTicks` more are held back for their clocks' rates.
 */
export function leaseHoldsInRealTime(
  leaseStartMs: number | undefined,
  nowMs: number,
  timing: { tickMs: number; electionTicks: number; driftTicks: number },
): boolean {
  if (leaseStartMs === undefined) return false;
  const leaseMs = (timing.electionTicks - timing.driftTicks - 1) * timing.tickMs;
  return nowMs < leaseStartMs + leaseMs;
}
