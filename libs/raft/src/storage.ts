import { assert } from '@parley/common';
import {
  ConfState,
  EMPTY_CONF_STATE,
  EMPTY_HARD_STATE,
  Entry,
  EntryType,
  HardState,
  Snapshot,
  entryBytes,
} from './types';

/**
 * The stable (persisted) part of the log, as the core reads it. The application writes to it
 * from `Ready` (entries, hard state, snapshot); the core only reads. Reads that cannot be served
 * answer `undefined` instead of throwing, and the caller decides (compacted → send a snapshot).
 */
export interface Storage {
  initialState(): { hardState: HardState; confState: ConfState };
  /** Entries in [lo, hi), at least one if any, at most `maxBytes` beyond the first. */
  entries(lo: number, hi: number, maxBytes: number): Entry[] | 'compacted';
  /** Term of entry `index`; `undefined` if compacted away or not yet present. */
  term(index: number): number | undefined;
  firstIndex(): number;
  lastIndex(): number;
  snapshot(): Snapshot;
}

/**
 * Storage held in memory: the simulator's disk, and the command-log's cache of its WAL.
 * `entries[0]` is a dummy entry carrying the snapshot's index and term, so `term()` of the
 * snapshot index works after compaction (Raft §7: the log starts after the snapshot).
 */
export class MemoryStorage implements Storage {
  private hardState: HardState = EMPTY_HARD_STATE;
  private snap: Snapshot = {
    meta: { index: 0, term: 0, confState: EMPTY_CONF_STATE },
    data: new Uint8Array(0),
  };
  private ents: Entry[] = [{ term: 0, index: 0, type: EntryType.Normal, data: new Uint8Array(0) }];

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: this.hardState, confState: this.snap.meta.confState };
  }

  setHardState(hardState: HardState): void {
    this.hardState = hardState;
  }

  getHardState(): HardState {
    return this.hardState;
  }

  private offset(): number {
    return this.ents[0].index;
  }

  firstIndex(): number {
    return this.offset() + 1;
  }

  lastIndex(): number {
    return this.offset() + this.ents.length - 1;
  }

  term(index: number): number | undefined {
    const offset = this.offset();
    if (index < offset || index - offset >= this.ents.length) return undefined;
    return this.ents[index - offset].term;
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] | 'compacted' {
    const offset = this.offset();
    if (lo <= offset) return 'compacted';
    assert(
      hi <= this.lastIndex() + 1,
      `entries(${lo}, ${hi}) beyond last index ${this.lastIndex()}`,
    );
    return limitBytes(this.ents.slice(lo - offset, hi - offset), maxBytes);
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** Replaces everything with a snapshot received from the leader. */
  applySnapshot(snapshot: Snapshot): void {
    if (snapshot.meta.index <= this.snap.meta.index) return;
    this.snap = snapshot;
    this.ents = [
      {
        term: snapshot.meta.term,
        index: snapshot.meta.index,
        type: EntryType.Normal,
        data: new Uint8Array(0),
      },
    ];
  }

  /** Records a snapshot the application took at `index` (≤ applied); does not compact. */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot {
    assert(
      index <= this.lastIndex(),
      `snapshot index ${index} beyond last index ${this.lastIndex()}`,
    );
    if (index <= this.snap.meta.index) return this.snap;
    const term = this.term(index);
    assert(term !== undefined, `snapshot index ${index} is compacted`);
    this.snap = { meta: { index, term, confState }, data };
    return this.snap;
  }

  /** Discards entries before `compactIndex` (which must have been snapshotted or applied). */
  compact(compactIndex: number): void {
    const offset = this.offset();
    if (compactIndex <= offset) return;
    assert(
      compactIndex <= this.lastIndex(),
      `compact ${compactIndex} beyond last index ${this.lastIndex()}`,
    );
    const kept = this.ents.slice(compactIndex - offset);
    const head = kept[0];
    this.ents = [
      { term: head.term, index: head.index, type: EntryType.Normal, data: new Uint8Array(0) },
      ...kept.slice(1).map(ownData),
    ];
  }

  /** Appends entries, truncating any conflicting suffix (the leader's log wins, Raft §5.3). */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = entries[0].index + entries.length - 1;
    if (last < first) return;
    const fresh = first > entries[0].index ? entries.slice(first - entries[0].index) : entries;
    const at = fresh[0].index - this.offset();
    assert(
      at <= this.ents.length,
      `append at ${fresh[0].index} leaves a gap after ${this.lastIndex()}`,
    );
    // In place: copying the whole log on every append made each Ready cost O(log length)
    // (three quarters of the core benchmark's time, and the same in every replica's cache).
    // Nothing else holds this array: entries() hands out copies.
    if (at < this.ents.length) this.ents.length = at;
    for (const entry of fresh) this.ents.push(entry);
  }
}

/** Keeps a prefix of `entries` within `maxBytes`, but always at least one entry. */
export function limitBytes(entries: Entry[], maxBytes: number): Entry[] {
  if (entries.length === 0) return entries;
  let size = entryBytes(entries[0]);
  let count = 1;
  while (count < entries.length) {
    size += entryBytes(entries[count]);
    if (size > maxBytes) break;
    count += 1;
  }
  return count === entries.length ? entries : entries.slice(0, count);
}

/**
 * The entry with data of its own. Entries read back from a WAL segment or a peer frame are
 * views into that larger buffer; the few kept behind a snapshot would otherwise hold all of it
 * (a 64 MiB segment for a few thousand entries).
 */
function ownData(entry: Entry): Entry {
  const { data } = entry;
  return data.byteLength === data.buffer.byteLength ? entry : { ...entry, data: data.slice() };
}
