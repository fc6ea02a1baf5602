import { assert } from '@parley/common';

/**
 * Lifeguard's local health awareness: a score that rises when this member's own probes fail in
 * ways that point at itself (missing nacks, having to refute a suspicion) and falls with each
 * successful probe. Timeouts are stretched by (score + 1), so a member that is itself slow
 * probes less aggressively instead of accusing healthy members.
 */
export class Awareness {
  private score = 0;

  constructor(private readonly max: number) {
    assert(max >= 1, 'awareness max must be at least 1');
  }

  get health(): number {
    return this.score;
  }

  applyDelta(delta: number): void {
    this.score = Math.min(this.max - 1, Math.max(0, this.score + delta));
  }

  scale(ticks: number): number {
    return ticks * (this.score + 1);
  }
}
