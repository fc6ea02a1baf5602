import type { Entry, RawNode } from '@parley/raft';
import type { ProposeOutcome } from './outcomes';

/** Proposals appended to the log and waiting for their index to be applied. */
export class PendingProposals {
  private readonly byIndex = new Map<
    number,
    { term: number; resolve: (outcome: ProposeOutcome) => void }
  >();

  /** Beyond `max` waiting proposals, new ones are refused (a bound on memory). */
  constructor(private readonly max: number) {}

  get full(): boolean {
    return this.byIndex.size >= this.max;
  }

  /** Waits for an appended proposal, or answers a refused one at once. */
  track(result: ReturnType<RawNode['propose']>, resolve: (outcome: ProposeOutcome) => void): void {
    if (result.status === 'appended')
      this.byIndex.set(result.index, { term: result.term, resolve });
    else if (result.status === 'refused') resolve({ status: 'refused', refusal: result.refusal });
    else
      resolve({
        status: 'refused',
        refusal: { reason: 'not-leader', leaderHint: result.leaderHint },
      });
  }

  /** The entry at a proposal's index was applied: it is the proposal only in the same term. */
  applied(entry: Entry, result: unknown): void {
    const pending = this.byIndex.get(entry.index);
    if (!pending) return;
    this.byIndex.delete(entry.index);
    pending.resolve(
      pending.term === entry.term
        ? { status: 'applied', index: entry.index, result }
        : { status: 'dropped' },
    );
  }

  /** A snapshot replaced the log up to `index`: whether those committed is unknown here. */
  dropUpTo(index: number): void {
    for (const [at, pending] of this.byIndex) {
      if (at <= index) {
        // The client's retry is deduplicated.
        this.byIndex.delete(at);
        pending.resolve({ status: 'dropped' });
      }
    }
  }

  dropAll(): void {
    for (const pending of this.byIndex.values()) pending.resolve({ status: 'dropped' });
    this.byIndex.clear();
  }
}
