import type { DecisionEvent } from './decision-events';

/** What a window answers for "the events after index N". */
export type WindowRead =
  /** Every event with an index in (afterIndex, upTo]: the entries between them decided nothing. */
  | { status: 'ok'; events: DecisionEvent[]; upTo: number }
  /** The events after `afterIndex` are gone: those after `compactedIndex` are still here. */
  | { status: 'compacted'; compactedIndex: number };

/**
 * The most recent decision events by index, bounded: what a replica keeps for the watch, and
 * what decision-api keeps to let a new watcher join the live stream without a gap (etcd keeps
 * its watchable history the same way, up to its compaction point).
 *
 * Coverage is an interval of indexes, not a count of events: most entries decide nothing (clock
 * ticks, mirror cursors, no-ops), and a reader must know that nothing was missed between two
 * events. Every event with an index in (coveredFrom, last] is here.
 */
export class EventWindow {
  private items: DecisionEvent[] = [];
  /** items[head] is the oldest event kept (a moving head, compacted now and then: no shift()). */
  private head = 0;
  private coveredFrom = 0;
  private lastIndex: number | undefined;

  constructor(
    /** Most events kept; the oldest whole index goes first beyond it. */
    private readonly eventsMax: number,
  ) {
    if (!(eventsMax >= 1)) throw new Error('an event window needs room for at least one event');
  }

  get size(): number {
    return this.items.length - this.head;
  }

  /** The newest index covered; undefined before the window starts. */
  get last(): number | undefined {
    return this.lastIndex;
  }

  /** The lowest `afterIndex` the window can answer. */
  get from(): number {
    return this.coveredFrom;
  }

  /** Forgets everything: the window covers nothing before `index` and starts after it. */
  restartAfter(index: number): void {
    this.items = [];
    this.head = 0;
    this.coveredFrom = index;
    this.lastIndex = index;
  }

  /** Adds the events of the indexes (last, upTo], in log order. */
  append(events: readonly DecisionEvent[], upTo: number): void {
    // A fresh window starts with what it is first given.
    if (this.lastIndex === undefined) this.restartAfter((events[0]?.index ?? upTo + 1) - 1);
    if (upTo < this.lastIndex!) throw new Error(`event window at ${this.lastIndex} given ${upTo}`);
    for (const event of events) {
      if (event.index <= this.lastIndex! || event.index > upTo)
        throw new Error(`event ${event.index} outside (${this.lastIndex}, ${upTo}]`);
      this.items.push(event);
    }
    this.lastIndex = upTo;
    while (this.size > this.eventsMax) this.evictOldestIndex();
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  /** The events of one index leave together, so a reader never gets half of an index. */
  private evictOldestIndex(): void {
    const index = this.items[this.head].index;
    while (this.head < this.items.length && this.items[this.head].index === index) this.head += 1;
    this.coveredFrom = index;
  }

  /**
   * The events after `afterIndex`, at most `eventsMax` of them unless one index alone holds
   * more. An index beyond the window's last has nothing newer yet (upTo = afterIndex).
   */
  read(afterIndex: number, eventsMax: number): WindowRead {
    const last = this.lastIndex ?? this.coveredFrom;
    if (afterIndex < this.coveredFrom)
      return { status: 'compacted', compactedIndex: this.coveredFrom };
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

  /** The newest `count` events, newest first. */
  newest(count: number): DecisionEvent[] {
    const from = Math.max(this.head, this.items.length - count);
    return this.items.slice(from).reverse();
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
}
