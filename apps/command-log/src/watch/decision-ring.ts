import { DecisionEvent, EventWindow } from '@parley/decision';
import type { WatchResponse } from '@parley/command-log-api';

/**
 * The decision events of the entries this replica applied most recently (an EventWindow), read
 * by the watch. Every replica applies the same entries in the same order and computes the same
 * events, so any replica that holds a range can serve it. At start the ring is empty and is
 * refilled by WAL replay from the snapshot (it covers from the snapshot's index); a snapshot
 * installed from the leader skips entries, so the ring restarts after it.
 */
export class DecisionRing {
  private readonly window: EventWindow;
  private waiters: { after: number; wake: () => void }[] = [];

  constructor(eventsMax: number) {
    this.window = new EventWindow(eventsMax);
  }

  get size(): number {
    return this.window.size;
  }

  /** Called for every applied entry, in log order, with what it decided (often nothing). */
  applied(index: number, events: readonly DecisionEvent[]): void {
    const last = this.window.last;
    if (last === undefined || index !== last + 1) this.window.restartAfter(index - 1);
    this.window.append(events, index);
    if (this.waiters.length > 0) this.wakeWaiters(index);
  }

  /**
   * Events after `afterIndex` (absent: none, from the newest applied entry). Before the first
   * entry after start, the ring covers nothing but `appliedIndex` (its snapshot's index).
   */
  read(afterIndex: number | undefined, eventsMax: number, appliedIndex: number): WatchResponse {
    if (this.window.last === undefined) this.window.restartAfter(appliedIndex);
    if (afterIndex === undefined) return { status: 'ok', events: [], upTo: this.window.last! };
    return this.window.read(afterIndex, eventsMax);
  }

  /**
   * Resolves once an entry after `afterIndex` is applied, or after `waitMs` (long poll). At most
   * `waitersMax` wait at once; beyond it the call resolves at once (the caller reads anyway).
   */
  waitAfter(afterIndex: number, waitMs: number, waitersMax: number): Promise<void> {
    if ((this.window.last ?? -1) > afterIndex || waitMs <= 0 || this.waiters.length >= waitersMax)
      return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => waiter.wake(), waitMs);
      timer.unref();
      const waiter = {
        after: afterIndex,
        wake: () => {
          clearTimeout(timer);
          this.waiters = this.waiters.filter((w) => w !== waiter);
          resolve();
        },
      };
      this.waiters.push(waiter);
    });
  }

  private wakeWaiters(last: number): void {
    for (const waiter of this.waiters.filter((w) => w.after < last)) waiter.wake();
  }
}
