import { assert } from '@parley/common';
import { IdRing } from './id-ring';

type Column = Uint32Array | Float64Array | Uint8Array;

interface Capture {
  ring: IdRing;
  head: number;
  size: number;
  capacity: number;
  /** Each column's array as it is now, its values per entry, and where it goes in `out`. */
  columns: { array: Column; width: number; at: number }[];
  /** Entries written to `out` so far, oldest first. */
  written: number;
  unwatch: () => void;
}

/** Bytes one entry of `ring` takes in a snapshot. */
export function entryBytes(ring: IdRing): number {
  const { words, numbers, bytes } = ring.layout;
  return 4 + 4 + 8 + 4 * words + 8 * numbers + bytes;
}

/**
 * The session table's columns as they are at construction, written into a snapshot's bytes
 * later, a chunk of entries per step, oldest first: no copy of hundreds of megabytes in one
 * step (a fresh copy's page faults alone held the event loop for ~0.5 s at 3,000,000 ids).
 * The rings keep changing meanwhile, but an entry's data stays where it is until a `push`
 * writes that position again (or the ring grows into new arrays, leaving these untouched);
 * a push about to overwrite an entry not yet written makes this write every remaining entry
 * at once, first. Output: per ring, its columns one after another, each oldest entry first.
 */
export class FrozenSessionColumns {
  private readonly captures: Capture[];
  readonly byteLength: number;

  constructor(
    rings: IdRing[],
    private readonly out: Uint8Array,
    at: number,
  ) {
    this.captures = rings.map((ring) => {
      const { words, numbers, bytes } = ring.layout;
      const columns = (
        [
          [ring.hashHi, 1],
          [ring.hashLo, 1],
          [ring.ts, 1],
          [ring.words, words],
          [ring.numbers, numbers],
          [ring.bytes, bytes],
        ] as const
      )
        .filter(([, width]) => width > 0)
        .map(([array, width]) => {
          const column = { array, width, at };
          at += ring.size * width * array.BYTES_PER_ELEMENT;
          return column;
        });
      const capture: Capture = {
        ring,
        head: ring.head,
        size: ring.size,
        capacity: ring.capacity,
        columns,
        written: 0,
        unwatch: () => undefined,
      };
      capture.unwatch = ring.watchOverwrites((position) => this.beforeOverwrite(capture, position));
      return capture;
    });
    this.byteLength = at;
    assert(at <= out.length, 'session columns beyond the snapshot');
  }

  /** Writes up to `entriesMax` more entries; true once every entry is written. */
  step(entriesMax: number): boolean {
    const capture = this.captures.find((c) => c.written < c.size);
    if (!capture) return true;
    this.write(capture, Math.min(capture.size, capture.written + entriesMax));
    if (capture.written === capture.size) capture.unwatch();
    return this.captures.every((c) => c.written === c.size);
  }

  private beforeOverwrite(capture: Capture, position: number): void {
    if (capture.ring.hashHi !== capture.columns[0].array) {
      capture.unwatch(); // the ring grew into new arrays: these are never written again
      return;
    }
    const entry = (position - capture.head + capture.capacity) % capture.capacity;
    if (entry < capture.written || entry >= capture.size) return;
    for (const c of this.captures) {
      this.write(c, c.size);
      c.unwatch();
    }
  }

  /** Copies entries `written` up to `end` of every column (at most two runs: the ring wraps). */
  private write(capture: Capture, end: number): void {
    const { head, capacity, written } = capture;
    for (const { array, width, at } of capture.columns) {
      const unit = width * array.BYTES_PER_ELEMENT;
      for (let entry = written; entry < end;) {
        const position = (head + entry) % capacity;
        const run = Math.min(end - entry, capacity - position);
        const from = new Uint8Array(array.buffer, array.byteOffset + position * unit, run * unit);
        this.out.set(from, at + entry * unit);
        entry += run;
      }
    }
    capture.written = end;
  }
}
