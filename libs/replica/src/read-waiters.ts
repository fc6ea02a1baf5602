import type { ReadState } from '@parley/raft';
import type { ReadOutcome } from './outcomes';

/**
 * Linearizable reads in flight: each waits for its read point (a ReadState from the core),
 * then for the local state machine to apply it.
 */
export class ReadWaiters {
  private readonly pending = new Map<
    string,
    { index?: number; resolve: (o: ReadOutcome) => void }
  >();

  add(ctx: string, resolve: (o: ReadOutcome) => void): void {
    this.pending.set(ctx, { resolve });
  }

  /** Records the read points a Ready carries. */
  pointsKnown(states: readonly ReadState[]): void {
    for (const state of states) {
      const read = this.pending.get(state.requestCtx);
      if (read) read.index = state.index;
    }
  }

  /** Answers the reads whose point is applied. */
  serve(applied: number): void {
    for (const [ctx, read] of this.pending) {
      if (read.index !== undefined && read.index <= applied) {
        this.pending.delete(ctx);
        read.resolve({ status: 'ready', index: read.index });
      }
    }
  }

  /** A deposed leader cannot confirm the reads still waiting for their point. */
  refuseUnconfirmed(): void {
    for (const [ctx, read] of this.pending) {
      if (read.index === undefined) {
        this.pending.delete(ctx);
        read.resolve({ status: 'refused', reason: 'leadership changed' });
      }
    }
  }
}
