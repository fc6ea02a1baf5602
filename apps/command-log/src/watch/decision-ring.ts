import type { DecisionEvent } from '@parley/decision';
import type { WatchResponse } from '@parley/command-log-api';

/**
 * The decision events of the entries this replica applied most recently, by index: what the
 * watch reads (etcd keeps its watchable history the same way, up to its compaction point).
 * Every replica applies the same entries in the same order and computes the same events, so
 * any replica that holds a range can serve it.
 *
 * Coverage is an interval of indexes, not a count of events: most entries decide nothing (clock
 * ticks, mirror cursors, no-ops), and a reader must know that nothing was missed between two
 * events. Every event with an index in (coveredFrom, last] is here. At start the ring is empty
 * and is refilled by WAL replay from the snapshot (coveredFrom = the snapshot's index); a
 * snapshot installed from the leader skips entries, so the ring restarts after it.
 */
export class DecisionRing {
  private items: DecisionEvent[] = [];
  /** items[head] is the oldest event kept (a moving head, compacted now and then: no shift()). */
  private head = 0;
  private coveredFrom = 0;
  /** The last applied index seen; undefined until the first entry after start. */
  private last: number | undefined;
  private waiters: { after: number; wake: () => void }[] = [];

  constructor(
    /** Most events kept; the oldest whole index goes first beyond it. */
    private readonly eventsMax: number,
  ) {
    if (!(eventsMax >= 1)) throw new Error('DecisionRing needs room for at least one event');
  }

  get size(): number {
    return this.items.length - this.head;
  }

  /** Called for every applied entry, in log order, with what it decided (often nothing). */
  applied(index: number, events: readonly DecisionEvent[]): void {
    if (this.last === undefined || index !== this.last + 1) {
      // Start, or a snapshot installed from the leader: nothing before `index` is known here.
      this.items = [];
      this.head = 0;
      this.coveredFrom = index - 1;
    }
    this.last = index;
    for (const event of events) this.items.push(event);
    while (this.size > this.eventsMax) this.evictOldestIndex();
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    if (this.waiters.length > 0) this.wakeWaiters();
  }

  /** The events of one index leave together, so a reader never gets half of an index. */
  private evictOldestIndex(): void {
    const index = this.items[this.head].index;
    while (this.head < this.items.length && this.items[this.head].index === index) this.head += 1;
    this.coveredFrom = index;
  }

  /**
   * Events after `afterIndex` (absent: from the newest applied entry), at most `eventsMax` of
   * them unless one index alone holds more. `appliedIndex` stands for the ring's bounds before
   * the first entry after start: the replica's applied index (its snapshot's).
   */
  read(afterIndex: number | undefined, eventsMax: number, appliedIndex: number): WatchResponse {
    const last = this.last ?? appliedIndex;
    const coveredFrom = this.last === undefined ? appliedIndex : this.coveredFrom;
    if (afterIndex === undefined) return { status: 'ok', events: [], upTo: last };
    if (afterIndex < coveredFrom) return { status: 'compacted', compactedIndex: coveredFrom };
    if (afterIndex >= last) return { status: 'ok', events: [], upTo: afterIndex };
    const events: DecisionEvent[] = [];
    for (let at = this.firstAfter(afterIndex); at < this.items.length; at += 1) {
      const event = this.items[at];
      const previous = events[events.length - 1];
      if (events.length >= eventsMax && previous.index !== event.index)
        return { status: 'ok', events, upTo: previous.index };
      events.push(event);
    }
    return { status: 'ok', events, upTo: last };
  }

  /** The position of the first event with an index above `afterIndex` (binary search). */
  private firstAfter(afterIndex: number): number {
    let low = this.head;
    let high = this.items.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.items[middle].index <= afterIndex) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /**
   * Resolves once an entry after `afterIndex` is applied, or after `waitMs` (long poll). At most
   * `waitersMax` wait at once; beyond it the call resolves at once (the caller reads anyway).
   */
  waitAfter(afterIndex: number, waitMs: number, waitersMax: number): Promise<void> {
    if ((this.last ?? -1) > afterIndex || waitMs <= 0 || this.waiters.length >= waitersMax)
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

  private wakeWaiters(): void {
    const last = this.last ?? 0;
    for (const waiter of this.waiters.filter((w) => w.after < last)) waiter.wake();
  }
}
