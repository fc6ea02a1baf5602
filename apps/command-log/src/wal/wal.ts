import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  truncateSync,
  unlinkSync,
} from 'node:fs';
import { FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import { appendFlags, assert, InlineWrites } from '@parley/common';
import { EMPTY_HARD_STATE, Entry, HardState } from '@parley/raft';
import { ByteWriter } from '@parley/common';
import {
  RECORD_HEADER_BYTES,
  WalRecord,
  WalRecordKind,
  encodeRecord,
  parseRecord,
} from './wal-record';

/**
 * The write-ahead log: segmented append-only files of checksummed records. `save()` writes a
 * whole Ready (hard state and entries) with one durable write: group commit, never one sync per
 * entry. Segments are opened with O_DSYNC, so that write returns once its bytes are on disk (one
 * system call, where a write and an fdatasync took two; a small one on the event loop while the
 * disk answers fast, see InlineWrites); every write is awaited before the next, so nothing
 * unsynced ever sits in front of a synced record.
 * Replay keeps the last write for each index (a new leader may overwrite an uncommitted suffix),
 * truncates a torn tail, and refuses to start on corruption in the middle rather than apply
 * garbage.
 */
const MAGIC = Buffer.from('PRLYWAL1', 'ascii');
const SEGMENT_PATTERN = /^(\d{16})-(\d{16})\.wal$/;

export interface WalOptions {
  dir: string;
  /** A new segment starts once the current one reaches this many bytes. */
  segmentBytesMax: number;
  /** Durable writes (O_DSYNC); off only for measuring the floor. */
  fsync: boolean;
  /** Fault injection: milliseconds to wait before each durable write (a slow disk). */
  syncDelayMs?: number;
  /** Which writes go on the event loop and which through the thread pool (the defaults). */
  inlineWrites?: InlineWrites;
  logger: { log(message: string): void; warn(message: string): void };
}

export interface WalReplay {
  hardState: HardState;
  /** Entries after the snapshot marker, in index order, last write wins. */
  entries: Entry[];
  snapshot: { index: number; term: number } | undefined;
  /** What replay dropped from a torn tail, if anything. */
  truncated: { segment: string; offset: number; reason: string } | undefined;
}

export class WalCorruptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WalCorruptError';
  }
}

interface Segment {
  seq: number;
  firstIndex: number;
  name: string;
}

export class Wal {
  private file: FileHandle | undefined;
  private currentBytes = 0;
  private lastHardState: HardState = EMPTY_HARD_STATE;
  private lastSnapshot: { index: number; term: number } | undefined;
  syncs = 0;
  /** A commit-only hard state not yet written: it goes with the next write (see save). */
  private hardStateUnwritten = false;
  readonly inlineWrites: InlineWrites;

  private constructor(
    private readonly options: WalOptions,
    private segments: Segment[],
  ) {
    this.inlineWrites = options.inlineWrites ?? new InlineWrites();
  }

  /** Opens (creating if needed) the WAL in `dir` and replays it. */
  static async open(options: WalOptions): Promise<{ wal: Wal; replay: WalReplay }> {
    mkdirSync(options.dir, { recursive: true });
    const segments = listSegments(options.dir);
    const replay = replaySegments(options, segments);
    const wal = new Wal(options, segments);
    wal.lastHardState = replay.hardState;
    wal.lastSnapshot = replay.snapshot;
    if (segments.length === 0) {
      await wal.startSegment(1, 0);
    } else {
      const last = segments[segments.length - 1];
      wal.file = await open(join(options.dir, last.name), wal.appendFlags());
      wal.currentBytes = (await wal.file.stat()).size;
    }
    return { wal, replay };
  }

  /**
   * Persists a Ready's hard state and entries in one durable write when the Ready carries
   * entries or a new term or vote. A change of commit index alone is not written at all then
   * (etcd's MustSync rule, one step further): it goes with the next write, or at close. Commit is
   * a cluster-wide fact a restarted replica learns again from the leader, whereas losing a vote
   * or an acknowledged entry would break safety; and a commit written without a sync could sit,
   * unsynced, in front of the next synced record, which O_DSYNC does not cover.
   */
  async save(hardState: HardState | undefined, entries: readonly Entry[]): Promise<void> {
    if (hardState === undefined && entries.length === 0) return;
    const mustSync =
      entries.length > 0 ||
      (hardState !== undefined &&
        (hardState.term !== this.lastHardState.term || hardState.vote !== this.lastHardState.vote));
    if (!mustSync) {
      this.lastHardState = hardState!;
      this.hardStateUnwritten = true;
      return;
    }
    // Before this Ready's hard state is taken: the new segment repeats the latest hard state
    // written or deferred, whose commit covers only entries already on disk.
    if (this.currentBytes >= this.options.segmentBytesMax && entries.length > 0) {
      await this.startSegment(this.segments[this.segments.length - 1].seq + 1, entries[0].index);
    }
    const out = new ByteWriter(entries.reduce((n, e) => n + e.data.length + 40, 64));
    for (const entry of entries) encodeRecord({ kind: WalRecordKind.Entry, entry }, out);
    if (hardState) this.lastHardState = hardState;
    if (hardState || this.hardStateUnwritten)
      encodeRecord({ kind: WalRecordKind.HardState, hardState: this.lastHardState }, out);
    this.hardStateUnwritten = false;
    await this.writeDurably(out.finish());
  }

  /** Records that entries up to `index` are in a durable snapshot (installed or taken). */
  async saveSnapshotMarker(index: number, term: number): Promise<void> {
    const out = new ByteWriter(64);
    encodeRecord({ kind: WalRecordKind.Snapshot, index, term }, out);
    this.lastSnapshot = { index, term };
    await this.writeDurably(out.finish());
  }

  /**
   * Deletes segments wholly covered by a snapshot at `snapshotIndex`: segment k goes when
   * segment k+1 starts at or before snapshotIndex+1 (anything in k is then either in the
   * snapshot or overwritten by k+1).
   */
  compact(snapshotIndex: number): number {
    let removed = 0;
    while (
      this.segments.length > 1 &&
      this.segments[1].firstIndex > 0 &&
      this.segments[1].firstIndex <= snapshotIndex + 1
    ) {
      const gone = this.segments.shift()!;
      unlinkSync(join(this.options.dir, gone.name));
      removed += 1;
    }
    if (removed > 0) syncDirectory(this.options.dir);
    return removed;
  }

  segmentCount(): number {
    return this.segments.length;
  }

  /** Writes a deferred commit-only hard state, then closes. */
  async close(): Promise<void> {
    if (this.file && this.hardStateUnwritten) {
      const out = new ByteWriter(64);
      encodeRecord({ kind: WalRecordKind.HardState, hardState: this.lastHardState }, out);
      this.hardStateUnwritten = false;
      await this.writeDurably(out.finish());
    }
    await this.file?.close();
    this.file = undefined;
  }

  /** One write, on disk when it resolves (O_DSYNC) unless fsync is off. */
  private async writeDurably(bytes: Uint8Array): Promise<void> {
    assert(this.file !== undefined, 'WAL is closed');
    this.currentBytes += bytes.length;
    if (this.options.fsync && this.options.syncDelayMs)
      await new Promise((resolve) => setTimeout(resolve, this.options.syncDelayMs));
    await this.inlineWrites.write(this.file, bytes);
    if (this.options.fsync) this.syncs += 1;
  }

  /** Opening flags for appends: O_DSYNC makes each write durable when it returns. */
  private appendFlags(create = false): number {
    return appendFlags(this.options.fsync, create ? 'exclusive' : 'create');
  }

  /** A new segment repeats the latest hard state and snapshot marker, so old ones can go. */
  private async startSegment(seq: number, firstIndex: number): Promise<void> {
    await this.file?.close();
    const name = `${String(seq).padStart(16, '0')}-${String(firstIndex).padStart(16, '0')}.wal`;
    const path = join(this.options.dir, name);
    const out = new ByteWriter(128);
    out.raw(MAGIC);
    if (this.lastSnapshot)
      encodeRecord({ kind: WalRecordKind.Snapshot, ...this.lastSnapshot }, out);
    encodeRecord({ kind: WalRecordKind.HardState, hardState: this.lastHardState }, out);
    this.hardStateUnwritten = false;
    this.file = await open(path, this.appendFlags(true));
    await this.file.write(out.finish());
    syncDirectory(this.options.dir);
    this.currentBytes = out.finish().length;
    this.segments.push({ seq, firstIndex, name });
  }
}

function listSegments(dir: string): Segment[] {
  return readdirSync(dir)
    .map((name) => ({ name, match: SEGMENT_PATTERN.exec(name) }))
    .filter((s): s is { name: string; match: RegExpExecArray } => s.match !== null)
    .map((s) => ({ seq: Number(s.match[1]), firstIndex: Number(s.match[2]), name: s.name }))
    .sort((a, b) => a.seq - b.seq);
}

function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** A record and where it was read (named only in an error: kept as parts, not a string per record). */
interface PlacedRecord {
  record: WalRecord;
  segment: string;
  offset: number;
}

function replaySegments(options: WalOptions, segments: Segment[]): WalReplay {
  const records: PlacedRecord[] = [];
  let truncated: WalReplay['truncated'];
  let tornHeader: Segment | undefined;
  segments.forEach((segment, position) => {
    const isLast = position === segments.length - 1;
    const path = join(options.dir, segment.name);
    const file = readFileSync(path);
    if (file.length < MAGIC.length || !file.subarray(0, MAGIC.length).equals(MAGIC)) {
      if (isLast && file.length < MAGIC.length) {
        // A segment whose header itself was torn: nothing in it was ever acknowledged.
        unlinkSync(path);
        syncDirectory(options.dir);
        tornHeader = segment;
        truncated = { segment: segment.name, offset: 0, reason: 'torn segment header' };
        return;
      }
      throw new WalCorruptError(`${segment.name}: not a Parley WAL segment (bad magic)`);
    }
    let offset = MAGIC.length;
    while (offset < file.length) {
      const parsed = parseRecord(file, offset);
      if (parsed.status === 'ok') {
        records.push({ record: parsed.record, segment: segment.name, offset });
        offset = parsed.end;
        continue;
      }
      // A torn write leaves nothing valid after it. A damaged length field also reads as
      // "runs past the end", so the rest of the file is searched for a whole record first:
      // finding one means acknowledged entries follow, which must not be cut away.
      const atTail =
        (parsed.status === 'truncated' || parsed.end >= file.length) &&
        firstWholeRecordAfter(file, offset) === undefined;
      if (!isLast || !atTail) {
        throw new WalCorruptError(
          `${segment.name}: ${parsed.reason} at offset ${offset} with data after it; refusing to start (corruption in the middle of the log)`,
        );
      }
      options.logger.warn(
        `WAL ${segment.name}: dropping a torn tail of ${file.length - offset} bytes at offset ${offset} (${parsed.reason})`,
      );
      truncateSync(path, offset);
      truncated = { segment: segment.name, offset, reason: parsed.reason };
      break;
    }
  });
  if (tornHeader) segments.splice(segments.indexOf(tornHeader), 1);
  const rebuilt = rebuild(records);
  // An entry's data is a view into the segment it was read from. When a snapshot covers most
  // of what was read, the few entries after it get their own copies, so the segments' buffers
  // can go now rather than when those entries are next compacted away.
  let readBytes = 0;
  for (const { record } of records)
    if (record.kind === WalRecordKind.Entry) readBytes += record.entry.data.byteLength;
  let keptBytes = 0;
  for (const entry of rebuilt.entries) keptBytes += entry.data.byteLength;
  if (keptBytes * 2 < readBytes)
    rebuilt.entries = rebuilt.entries.map((entry) => ({ ...entry, data: entry.data.slice() }));
  return { ...rebuilt, truncated };
}

/**
 * The offset of the first position after `offset` where a whole record with a good checksum
 * starts, if any. Most positions are refused by their length field alone, so the search costs
 * little beyond reading the bytes; it runs only when a replica starts on a damaged last segment.
 */
function firstWholeRecordAfter(file: Uint8Array, offset: number): number | undefined {
  for (let at = offset + 1; at + RECORD_HEADER_BYTES < file.length; at++)
    if (parseRecord(file, at).status === 'ok') return at;
  return undefined;
}

/**
 * Rebuilds the log from records in write order. Entries up to the newest snapshot marker are
 * covered by the snapshot (older segments may already be deleted, so gaps there are expected);
 * after it the log must be contiguous, and a rewrite of index i drops i and what follows.
 */
function rebuild(records: PlacedRecord[]): Omit<WalReplay, 'truncated'> {
  let hardState: HardState = EMPTY_HARD_STATE;
  let snapshot: { index: number; term: number } | undefined;
  for (const { record } of records) {
    if (
      record.kind === WalRecordKind.Snapshot &&
      (snapshot === undefined || record.index >= snapshot.index)
    ) {
      snapshot = { index: record.index, term: record.term };
    }
  }
  const floor = snapshot?.index ?? 0;
  const entries: Entry[] = [];
  for (const { record, segment, offset } of records) {
    if (record.kind === WalRecordKind.HardState) {
      hardState = record.hardState;
      continue;
    }
    if (record.kind !== WalRecordKind.Entry) continue;
    const entry = record.entry;
    // A rewrite drops what follows even when it is itself under the snapshot: otherwise a suffix
    // a new leader truncated comes back after the snapshot (found by test/fuzz/wal.spec.ts).
    while (entries.length > 0 && entries[entries.length - 1].index >= entry.index) entries.pop();
    if (entry.index <= floor) continue;
    const expected = entries.length > 0 ? entries[entries.length - 1].index + 1 : floor + 1;
    if (entry.index !== expected) {
      throw new WalCorruptError(
        `${segment}@${offset}: entry ${entry.index} leaves a gap after ${expected - 1}`,
      );
    }
    entries.push(entry);
  }
  return { hardState, entries, snapshot };
}
