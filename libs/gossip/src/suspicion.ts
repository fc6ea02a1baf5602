import { assert } from '@parley/common';
import { MemberId } from './types';

/**
 * Lifeguard's dynamic suspicion timeout: it starts at `maxTicks` and shrinks towards `minTicks`
 * as independent members confirm the suspicion, logarithmically in the number of
 * confirmations, reaching the minimum after `k` of them. A suspicion nobody confirms lasts long
 * enough for a slow member to hear it and refute.
 */
export class Suspicion {
  private readonly confirmations = new Set<MemberId>();

  constructor(
    readonly incarnation: number,
    private startTickValue: number,
    private readonly k: number,
    private readonly minTicks: number,
    private readonly maxTicks: number,
    firstAccuser: MemberId,
  ) {
    assert(minTicks > 0 && maxTicks >= minTicks, 'suspicion bounds must be ordered');
    this.confirmations.add(firstAccuser);
  }

  /** Records an independent confirmation; true when it is new (worth re-gossiping). */
  confirm(from: MemberId): boolean {
    if (this.confirmations.has(from) || this.confirmations.size > this.k) return false;
    this.confirmations.add(from);
    return true;
  }

  /** The first accuser does not count as a confirmation. */
  get confirmationCount(): number {
    return this.confirmations.size - 1;
  }

  timeoutTicks(): number {
    return suspicionTimeoutTicks(this.confirmationCount, this.k, this.minTicks, this.maxTicks);
  }

  get startTick(): number {
    return this.startTickValue;
  }

  /** This member stalled: the time it was not running does not count against the suspect. */
  postpone(ticks: number): void {
    this.startTickValue += ticks;
  }

  expired(nowTick: number): boolean {
    return nowTick - this.startTickValue >= this.timeoutTicks();
  }
}

/** max(min, max − (max − min) · log(c + 1) / log(k + 1)), as in memberlist's suspicion.go. */
export function suspicionTimeoutTicks(
  confirmations: number,
  k: number,
  minTicks: number,
  maxTicks: number,
): number {
  if (k < 1) return minTicks;
  const fraction = Math.log(confirmations + 1) / Math.log(k + 1);
  return Math.max(minTicks, Math.floor(maxTicks - (maxTicks - minTicks) * fraction));
}
