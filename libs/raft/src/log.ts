import { assert } from '@parley/common';
import { Storage, limitBytes } from './storage';
import { Unstable } from './unstable';
import { Entry, Snapshot, entryBytes } from './types';

/**
 * The Raft log as the core sees it: the persisted prefix in `storage`, the not-yet-persisted
 * suffix in `unstable`, and the commit and apply cursors. Invariant:
 * firstIndex-1 ≤ applied ≤ committed ≤ lastIndex.
 */
export class RaftLog {
  readonly unstable: Unstable;
  committed: number;
  applied: number;

  constructor(
    readonly storage: Storage,
    private readonly maxApplyBytes: number,
  ) {
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    this.unstable = new Unstable(last + 1);
    this.committed = first - 1;
    this.applied = first - 1;
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  lastTerm(): number {
    const term = this.term(this.lastIndex());
    assert(term !== undefined, `term of last index ${this.lastIndex()} unknown`);
    return term;
  }

  /** Term of `index`, or `undefined` when it is compacted away or beyond the log. */
  term(index: number): number | undefined {
    const dummy = this.firstIndex() - 1;
    if (index < dummy || index > this.lastIndex()) return undefined;
    return this.unstable.maybeTerm(index) ?? this.storage.term(index);
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /**
   * Raft §5.3 AppendEntries receiver: if our log has an entry at `index` with `logTerm`,
   * append `entries` (truncating any conflicting suffix) and return the new last index of the
   * appended range; otherwise `undefined` (the leader must back up).
   */
  maybeAppend(
    index: number,
    logTerm: number,
    committed: number,
    entries: readonly Entry[],
  ): number | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined;
    const lastNew = index + entries.length;
    const conflict = this.findConflict(entries);
    if (conflict !== 0) {
      assert(
        conflict > this.committed,
        `entry ${conflict} conflicts with committed entry ${this.committed}`,
      );
      this.append(entries.slice(conflict - (index + 1)));
    }
    this.commitTo(Math.min(committed, lastNew));
    return lastNew;
  }

  append(entries: readonly Entry[]): number {
    if (entries.length === 0) return this.lastIndex();
    // Log Matching (§5.3) needs a log without holes: new entries start at most one past the end.
    assert(
      entries[0].index <= this.lastIndex() + 1,
      `append at ${entries[0].index} leaves a gap after ${this.lastIndex()}`,
    );
    assert(
      entries[0].index - 1 >= this.committed,
      `append after ${entries[0].index - 1} would overwrite committed ${this.committed}`,
    );
    this.unstable.truncateAndAppend(entries);
    return this.lastIndex();
  }

  /**
   * The index of the first entry that is new or conflicts by term; 0 if all are present.
   */
  findConflict(entries: readonly Entry[]): number {
    for (const entry of entries) {
      if (!this.matchTerm(entry.index, entry.term)) return entry.index;
    }
    return 0;
  }

  /**
   * Fast backtracking (Raft §5.3, "the follower can include the term of the conflicting
   * entry"): the largest index ≤ `index` whose term is ≤ `term`, so the leader can skip a whole
   * term of mismatching entries per round trip.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    let i = Math.min(index, this.lastIndex());
    for (;;) {
      const t = this.term(i);
      if (t === undefined) return { index: i, term: 0 };
      if (t <= term) return { index: i, term: t };
      i -= 1;
    }
  }

  /** Entries from `lo` to the end, bounded by `maxBytes`; 'compacted' if lo is gone. */
  entriesFrom(lo: number, maxBytes: number): Entry[] | 'compacted' {
    if (lo > this.lastIndex()) return [];
    return this.slice(lo, this.lastIndex() + 1, maxBytes);
  }

  slice(lo: number, hi: number, maxBytes: number): Entry[] | 'compacted' {
    if (lo === hi) return [];
    if (lo < this.firstIndex()) return 'compacted';
    assert(hi <= this.lastIndex() + 1, `slice(${lo}, ${hi}) beyond last ${this.lastIndex()}`);
    let result: Entry[] = [];
    const unstableStart = this.unstable.offset;
    if (lo < unstableStart) {
      const stored = this.storage.entries(lo, Math.min(hi, unstableStart), maxBytes);
      if (stored === 'compacted') return 'compacted';
      if (stored.length < Math.min(hi, unstableStart) - lo) return stored;
      result = stored;
    }
    if (hi > unstableStart) {
      result = result.concat(this.unstable.slice(Math.max(lo, unstableStart), hi));
    }
    return limitBytes(result, maxBytes);
  }

  allEntries(): Entry[] {
    const all = this.entriesFrom(this.firstIndex(), Number.MAX_SAFE_INTEGER);
    assert(all !== 'compacted', 'allEntries raced with compaction');
    return all;
  }

  /** Committed entries not yet handed to the application. */
  nextCommittedEntries(): Entry[] {
    const lo = Math.max(this.applied + 1, this.firstIndex());
    if (this.committed + 1 <= lo) return [];
    const ents = this.slice(lo, this.committed + 1, this.maxApplyBytes);
    assert(ents !== 'compacted', `committed entries from ${lo} compacted before being applied`);
    return ents;
  }

  hasNextCommittedEntries(): boolean {
    return this.committed > Math.max(this.applied, this.firstIndex() - 1);
  }

  hasPendingSnapshot(): boolean {
    return this.unstable.snapshot !== undefined;
  }

  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  commitTo(index: number): void {
    if (index <= this.committed) return; // never decrease commit
    assert(index <= this.lastIndex(), `commit ${index} beyond last index ${this.lastIndex()}`);
    this.committed = index;
  }

  /**
   * Raft §5.4.2: a leader commits only entries of its own term by counting replicas; earlier
   * entries are committed indirectly (the "figure 8" rule).
   */
  maybeCommit(index: number, term: number): boolean {
    if (index > this.committed && this.term(index) === term) {
      this.commitTo(index);
      return true;
    }
    return false;
  }

  appliedTo(index: number): void {
    if (index === 0) return;
    assert(
      index <= this.committed && index >= this.applied,
      `applied ${index} outside [${this.applied}, ${this.committed}]`,
    );
    this.applied = index;
  }

  stableTo(index: number, term: number): void {
    this.unstable.stableTo(index, term);
  }

  stableSnapTo(index: number): void {
    this.unstable.stableSnapTo(index);
  }

  /** Raft §5.4.1: a candidate's log is at least as up to date as ours. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  restore(snapshot: Snapshot): void {
    // A snapshot holds committed entries only; installing one never moves commit backwards.
    assert(
      snapshot.meta.index > this.committed,
      `snapshot at ${snapshot.meta.index} is not past commit ${this.committed}`,
    );
    this.committed = snapshot.meta.index;
    this.unstable.restore(snapshot);
  }

  unstableBytes(): number {
    return this.unstable.entries.reduce((sum, e) => sum + entryBytes(e), 0);
  }
}
