import { assert } from '@parley/common';
import { Entry, Snapshot } from './types';

/**
 * Entries and a snapshot that the core has accepted but the application has not yet persisted.
 * `offset` is the index of `entries[0]`. Everything here is lost in a crash, which is why no
 * message that depends on it may be sent before the application persists it (see Ready).
 */
export class Unstable {
  snapshot: Snapshot | undefined;
  entries: Entry[] = [];

  constructor(public offset: number) {}

  /** The first index, if only a snapshot is known (the log starts after it). */
  maybeFirstIndex(): number | undefined {
    return this.snapshot ? this.snapshot.meta.index + 1 : undefined;
  }

  maybeLastIndex(): number | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot?.meta.index;
  }

  maybeTerm(index: number): number | undefined {
    if (index < this.offset) {
      if (this.snapshot && this.snapshot.meta.index === index) return this.snapshot.meta.term;
      return undefined;
    }
    const last = this.maybeLastIndex();
    if (last === undefined || index > last) return undefined;
    return this.entries[index - this.offset].term;
  }

  /** The application persisted entries up to (index, term): drop them from here. */
  stableTo(index: number, term: number): void {
    const t = this.maybeTerm(index);
    // A term mismatch means the entries were replaced by a newer leader's since the Ready that
    // carried them; only the matching prefix is stable.
    if (t !== term || index < this.offset) return;
    this.entries = this.entries.slice(index + 1 - this.offset);
    this.offset = index + 1;
  }

  stableSnapTo(index: number): void {
    if (this.snapshot && this.snapshot.meta.index === index) this.snapshot = undefined;
  }

  restore(snapshot: Snapshot): void {
    this.offset = snapshot.meta.index + 1;
    this.entries = [];
    this.snapshot = snapshot;
  }

  truncateAndAppend(entries: readonly Entry[]): void {
    const after = entries[0].index;
    if (after === this.offset + this.entries.length) {
      // In place, one proposal at a time, without copying what is already there: ready()
      // hands out a copy, so nothing else holds this array.
      for (const entry of entries) this.entries.push(entry);
    } else if (after <= this.offset) {
      // The new entries replace everything unstable (a new leader's log wins).
      this.offset = after;
      this.entries = entries.slice();
    } else {
      this.entries = this.slice(this.offset, after).concat(entries);
    }
  }

  slice(lo: number, hi: number): Entry[] {
    assert(
      lo >= this.offset && hi <= this.offset + this.entries.length && lo <= hi,
      `unstable.slice(${lo}, ${hi}) out of [${this.offset}, ${this.offset + this.entries.length}]`,
    );
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}
