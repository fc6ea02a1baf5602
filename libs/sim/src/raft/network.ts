import { Message, NodeId } from '@parley/raft';
import { Rng } from './rng';

/**
 * The simulated network's fault model: per-message delay (which also reorders), drop and
 * duplication probabilities, and cut links (a symmetric partition cuts both directions, an
 * asymmetric one a single direction).
 */
export interface NetworkFaults {
  delayMsMin: number;
  delayMsMax: number;
  dropProbability: number;
  duplicateProbability: number;
}

export const CALM_NETWORK: NetworkFaults = {
  delayMsMin: 1,
  delayMsMax: 6,
  dropProbability: 0,
  duplicateProbability: 0,
};

export class SimNetwork {
  faults: NetworkFaults = CALM_NETWORK;
  private readonly cut = new Set<string>();
  sent = 0;
  dropped = 0;
  duplicated = 0;

  constructor(private readonly rng: Rng) {}

  /** Delivery times for a message: none if dropped, two if duplicated. */
  schedule(m: Message, now: number): number[] {
    this.sent += 1;
    if (this.cut.has(`${m.from}>${m.to}`) || this.rng.chance(this.faults.dropProbability)) {
      this.dropped += 1;
      return [];
    }
    const times = [now + this.rng.between(this.faults.delayMsMin, this.faults.delayMsMax)];
    if (this.rng.chance(this.faults.duplicateProbability)) {
      this.duplicated += 1;
      times.push(now + this.rng.between(this.faults.delayMsMin, this.faults.delayMsMax * 3));
    }
    return times;
  }

  /** Whether a link is up at delivery time (a partition made in flight drops the message). */
  linkUp(from: NodeId, to: NodeId): boolean {
    return !this.cut.has(`${from}>${to}`);
  }

  partition(groups: readonly (readonly NodeId[])[]): void {
    for (const a of groups) {
      for (const b of groups) {
        if (a === b) continue;
        for (const x of a) for (const y of b) this.cut.add(`${x}>${y}`);
      }
    }
  }

  cutOneWay(from: NodeId, to: NodeId): void {
    this.cut.add(`${from}>${to}`);
  }

  heal(): void {
    this.cut.clear();
  }

  cutLinks(): number {
    return this.cut.size;
  }
}
