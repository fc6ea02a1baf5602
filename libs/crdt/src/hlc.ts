/**
 * A hybrid logical clock (Kulkarni et al., 2014): physical milliseconds plus a logical counter,
 * so timestamps follow causality even when wall clocks are skewed, with the node id as the
 * final tie-break. The physical time is passed in (pure core).
 */
export interface Hlc {
  wallMs: number;
  logical: number;
  node: string;
}

export function compareHlc(a: Hlc, b: Hlc): number {
  if (a.wallMs !== b.wallMs) return a.wallMs < b.wallMs ? -1 : 1;
  if (a.logical !== b.logical) return a.logical < b.logical ? -1 : 1;
  return a.node < b.node ? -1 : a.node > b.node ? 1 : 0;
}

export class HlcClock {
  private last: Hlc;

  constructor(readonly node: string) {
    this.last = { wallMs: 0, logical: 0, node };
  }

  /** A timestamp for a local event at physical time `nowMs`. */
  now(nowMs: number): Hlc {
    if (nowMs > this.last.wallMs) this.last = { wallMs: nowMs, logical: 0, node: this.node };
    else this.last = { wallMs: this.last.wallMs, logical: this.last.logical + 1, node: this.node };
    return this.last;
  }

  /** Folds in a timestamp received from elsewhere, so later local events come after it. */
  observe(remote: Hlc, nowMs: number): void {
    const wallMs = Math.max(nowMs, this.last.wallMs, remote.wallMs);
    let logical = 0;
    if (wallMs === this.last.wallMs && wallMs === remote.wallMs)
      logical = Math.max(this.last.logical, remote.logical) + 1;
    else if (wallMs === this.last.wallMs) logical = this.last.logical + 1;
    else if (wallMs === remote.wallMs) logical = remote.logical + 1;
    this.last = { wallMs, logical, node: this.node };
  }
}
