import { AppliedRecord } from './mirror-record';

/**
 * The applied records the mirror has not published yet, in index order. Records arrive in apply
 * order, so whatever is buffered past the published index can go out at once: indexes missing in
 * between are entries that are not mirrored (no-ops, membership changes, clock ticks that closed
 * nothing, the mirror's own cursor), not entries still to come. A queue rather than a map keyed
 * by index, so a batch never waits for an index that will never be recorded.
 */
export class MirrorBuffer {
  private records: AppliedRecord[] = [];
  /** Position of the oldest record still held; the array is compacted when half is spent. */
  private head = 0;
  private lastIndex = 0;

  constructor(private readonly recordsMax: number) {}

  get size(): number {
    return this.records.length - this.head;
  }

  /**
   * Adds the next applied record. Returns the index of a record dropped to stay within
   * `recordsMax` (the oldest one), or undefined. A record at or below the last one added (a
   * replay after a snapshot install) restarts the queue from it: what was held is older.
   */
  add(record: AppliedRecord): number | undefined {
    if (record.index <= this.lastIndex) this.clear();
    this.lastIndex = record.index;
    this.records.push(record);
    if (this.size <= this.recordsMax) return undefined;
    const dropped = this.records[this.head];
    this.advanceHead(1);
    return dropped.index;
  }

  /** Forgets every record at or below `index`: published, or known to be in Kafka. */
  dropThrough(index: number): void {
    let count = 0;
    while (
      this.head + count < this.records.length &&
      this.records[this.head + count].index <= index
    )
      count += 1;
    this.advanceHead(count);
  }

  /** Up to `max` of the oldest records held, in index order. */
  oldest(max: number): AppliedRecord[] {
    return this.records.slice(this.head, this.head + max);
  }

  private advanceHead(count: number): void {
    this.head += count;
    if (this.head > 1_024 && this.head * 2 > this.records.length) {
      this.records = this.records.slice(this.head);
      this.head = 0;
    }
  }

  private clear(): void {
    this.records = [];
    this.head = 0;
  }
}
