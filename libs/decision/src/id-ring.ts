import { assert } from '@parley/common';

/** Per-entry columns beside the id hash and time: 32-bit words, 64-bit numbers, bytes. */
export interface RingLayout {
  words: number;
  numbers: number;
  bytes: number;
}

const EMPTY = -1;
/** Small: a state machine with few sessions (tests, fuzzing, a quiet cluster) stays small. */
const CAPACITY_MIN = 64;

/** A 32-bit finalizer (murmur3 fmix32), so the index slot uses every bit of the hash. */
function mix(hi: number, lo: number): number {
  let h = (lo ^ Math.imul(hi, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Request ids in apply order, found by a 64-bit hash of the id: a circular buffer whose columns
 * are typed arrays, plus an open-addressing index over it (linear probing, backward-shift
 * deletion, load at most one half). Typed arrays rather than a Map of objects because millions
 * of remembered ids must cost tens of bytes each and give the garbage collector nothing to walk.
 * Entries leave only from the oldest end (`shift`), so the order is the same on every replica.
 */
export class IdRing {
  hashHi!: Uint32Array;
  hashLo!: Uint32Array;
  /** Log time of each entry (milliseconds). */
  ts!: Float64Array;
  words!: Uint32Array;
  numbers!: Float64Array;
  bytes!: Uint8Array;
  private slots!: Int32Array;
  /** Called with a position about to be written by `push` (see `watchOverwrites`). */
  private readonly overwriteWatchers = new Set<(position: number) => void>();
  head = 0;
  size = 0;
  capacity = 0;

  /** `capacityMax`: growth by doubling stops there (the caller bounds the entries). */
  constructor(
    readonly layout: RingLayout,
    private readonly capacityMax = Number.MAX_SAFE_INTEGER,
  ) {
    this.allocate(Math.min(CAPACITY_MIN, Math.max(1, capacityMax)));
  }

  /** Physical position of the `i`-th oldest entry. */
  at(i: number): number {
    return (this.head + i) % this.capacity;
  }

  /** Position of the entry with this hash, or -1. */
  find(hi: number, lo: number): number {
    const mask = this.slots.length - 1;
    for (let i = mix(hi, lo) & mask; ; i = (i + 1) & mask) {
      const p = this.slots[i];
      if (p === EMPTY) return -1;
      if (this.hashLo[p] === lo && this.hashHi[p] === hi) return p;
    }
  }

  /** Appends an entry (the caller fills its columns at the returned position). */
  push(hi: number, lo: number, ts: number): number {
    if (this.size === this.capacity)
      this.allocate(
        this.capacity < this.capacityMax
          ? Math.min(this.capacity * 2, this.capacityMax)
          : this.capacity * 2,
      );
    const p = (this.head + this.size) % this.capacity;
    for (const watcher of this.overwriteWatchers) watcher(p);
    this.hashHi[p] = hi;
    this.hashLo[p] = lo;
    this.ts[p] = ts;
    this.size += 1;
    this.index(p);
    return p;
  }

  /** Removes the oldest entry. */
  shift(): void {
    assert(this.size > 0, 'shift from an empty id ring');
    const p = this.head;
    const mask = this.slots.length - 1;
    let hole = mix(this.hashHi[p], this.hashLo[p]) & mask;
    while (this.slots[hole] !== p) {
      assert(this.slots[hole] !== EMPTY, 'id ring index lost an entry');
      hole = (hole + 1) & mask;
    }
    // Backward shift: an entry after the hole moves into it unless its home lies after the hole.
    for (let j = (hole + 1) & mask; this.slots[j] !== EMPTY; j = (j + 1) & mask) {
      const q = this.slots[j];
      const home = mix(this.hashHi[q], this.hashLo[q]) & mask;
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        this.slots[hole] = q;
        hole = j;
      }
    }
    this.slots[hole] = EMPTY;
    this.head = (this.head + 1) % this.capacity;
    this.size -= 1;
  }

  /**
   * Fills an empty ring with `count` entries at once (a snapshot restore): whole columns are
   * copied, then indexed. False when two entries share a hash (the ring is then unusable).
   */
  load(
    count: number,
    columns: Pick<IdRing, 'hashHi' | 'hashLo' | 'ts' | 'words' | 'numbers' | 'bytes'>,
  ): boolean {
    assert(this.size === 0, 'load into a ring that holds entries');
    if (count > this.capacity) this.allocate(count);
    this.hashHi.set(columns.hashHi);
    this.hashLo.set(columns.hashLo);
    this.ts.set(columns.ts);
    this.words.set(columns.words);
    this.numbers.set(columns.numbers);
    this.bytes.set(columns.bytes);
    this.size = count;
    const mask = this.slots.length - 1;
    for (let p = 0; p < count; p += 1) {
      const hi = this.hashHi[p];
      const lo = this.hashLo[p];
      let i = mix(hi, lo) & mask;
      for (; this.slots[i] !== EMPTY; i = (i + 1) & mask) {
        const q = this.slots[i];
        if (this.hashLo[q] === lo && this.hashHi[q] === hi) return false;
      }
      this.slots[i] = p;
    }
    return true;
  }

  /**
   * Calls `watcher` before each `push` writes a position, so a reader of a past state of the
   * arrays (a snapshot in steps) can copy what it still needs first. Returns the unsubscribe.
   */
  watchOverwrites(watcher: (position: number) => void): () => void {
    this.overwriteWatchers.add(watcher);
    return () => this.overwriteWatchers.delete(watcher);
  }

  /** Makes room for `count` entries at once (a snapshot restore), so pushes do not regrow. */
  reserve(count: number): void {
    if (count > this.capacity) this.allocate(count);
  }

  /** Log time of the oldest entry (only when not empty). */
  oldestTs(): number {
    assert(this.size > 0, 'oldest of an empty id ring');
    return this.ts[this.head];
  }

  /** Bytes of the typed arrays held (for the benchmark's memory figure). */
  get bytesHeld(): number {
    return (
      this.hashHi.byteLength +
      this.hashLo.byteLength +
      this.ts.byteLength +
      this.words.byteLength +
      this.numbers.byteLength +
      this.bytes.byteLength +
      this.slots.byteLength
    );
  }

  /** Grows (or first sizes) the ring, keeping the entries in order from position 0. */
  private allocate(capacity: number): void {
    const { words, numbers, bytes } = this.layout;
    const old = this.capacity === 0 ? undefined : { ...this.columns(), count: this.size };
    const oldHead = this.head;
    const oldCapacity = this.capacity;
    this.hashHi = new Uint32Array(capacity);
    this.hashLo = new Uint32Array(capacity);
    this.ts = new Float64Array(capacity);
    this.words = new Uint32Array(capacity * words);
    this.numbers = new Float64Array(capacity * numbers);
    this.bytes = new Uint8Array(capacity * bytes);
    this.capacity = capacity;
    this.head = 0;
    let slotCount = 1;
    while (slotCount < capacity * 2) slotCount *= 2;
    this.slots = new Int32Array(slotCount).fill(EMPTY);
    if (!old) return;
    const fresh = this.columns();
    for (const [name, width] of [
      ['hashHi', 1],
      ['hashLo', 1],
      ['ts', 1],
      ['words', words],
      ['numbers', numbers],
      ['bytes', bytes],
    ] as const) {
      if (width === 0) continue;
      const from = old[name];
      const to = fresh[name];
      const first = Math.min(old.count, oldCapacity - oldHead);
      to.set(from.subarray(oldHead * width, (oldHead + first) * width), 0);
      to.set(from.subarray(0, (old.count - first) * width), first * width);
    }
    for (let p = 0; p < this.size; p += 1) this.index(p);
  }

  private columns() {
    const { hashHi, hashLo, ts, words, numbers, bytes } = this;
    return { hashHi, hashLo, ts, words, numbers, bytes };
  }

  private index(p: number): void {
    const mask = this.slots.length - 1;
    let i = mix(this.hashHi[p], this.hashLo[p]) & mask;
    while (this.slots[i] !== EMPTY) i = (i + 1) & mask;
    this.slots[i] = p;
  }
}
