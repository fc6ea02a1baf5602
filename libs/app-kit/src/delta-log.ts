import { appendFlags, crc32c, InlineWrites } from '@parley/common';
import { closeSync, existsSync, fsyncSync, ftruncateSync, openSync, readFileSync } from 'node:fs';
import { FileHandle, open, rename } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Local durability of a process's own state (a crdt replica's, decision-api's outbox): an
 * append-only log of records ([len u32][crc32c u32][json]) plus a full-state snapshot file.
 * Appends are group-committed: what arrives in the same turn of the event loop, or while a
 * durable write is in flight, goes out in one write, so a 202 means "on this disk". Small
 * writes are done on the event loop while the disk answers fast (InlineWrites). On start the
 * snapshot is loaded and the log replayed; a torn or corrupt tail is cut off with a log line (a
 * crash mid-write loses only what was never acknowledged). Replaying a record already in the
 * snapshot must be harmless (see snapshot()).
 */
const RECORD_BYTES_MAX = 16 * 1024 * 1024;
const PENDING_MAX = 100_000;
/** Bytes of snapshot JSON gathered before one write to the file. */
const SNAPSHOT_WRITE_BYTES = 256 * 1024;

/** The two files in the log's folder; a crdt replica's names are the defaults. */
export interface DeltaLogFiles {
  log: string;
  snapshot: string;
}

const CRDT_FILES: DeltaLogFiles = { log: 'deltas.log', snapshot: 'state.json' };

export interface DeltaLogReplay {
  snapshot: unknown;
  records: unknown[];
  truncatedAt?: number;
}

export class DeltaLog {
  private file?: FileHandle;
  private pending: { bytes: Buffer; done: (error?: Error) => void }[] = [];
  private writing = false;
  /** The write+sync in flight, so a snapshot can wait for it and hold the next one back. */
  private inFlight: Promise<void> = Promise.resolve();
  /** The snapshot being taken, if any: the next waits for it, close() too. */
  private snapshotting: Promise<void> = Promise.resolve();
  appendedSinceSnapshot = 0;
  syncs = 0;

  private constructor(
    private readonly dir: string,
    private readonly fsync: boolean,
    private readonly files: DeltaLogFiles,
    /** Which writes go on the event loop and which through the thread pool. */
    readonly inlineWrites: InlineWrites,
  ) {}

  static async open(
    dir: string,
    fsync = true,
    files: DeltaLogFiles = CRDT_FILES,
    inlineWrites = new InlineWrites(),
  ): Promise<{ log: DeltaLog; replay: DeltaLogReplay }> {
    const log = new DeltaLog(dir, fsync, files, inlineWrites);
    const replay = log.read();
    log.file = await log.openForAppends();
    return { log, replay };
  }

  private read(): DeltaLogReplay {
    const snapshotPath = join(this.dir, this.files.snapshot);
    let snapshot: unknown = undefined;
    if (existsSync(snapshotPath)) {
      try {
        snapshot = JSON.parse(readFileSync(snapshotPath, 'utf8'));
      } catch {
        throw new Error(
          `${snapshotPath} is not valid JSON: refusing to start on a corrupt snapshot`,
        );
      }
    }
    const logPath = join(this.dir, this.files.log);
    if (!existsSync(logPath)) return { snapshot, records: [] };
    const bytes = readFileSync(logPath);
    const records: unknown[] = [];
    let offset = 0;
    while (offset < bytes.length) {
      if (offset + 8 > bytes.length) break;
      const length = bytes.readUInt32BE(offset);
      const checksum = bytes.readUInt32BE(offset + 4);
      if (length > RECORD_BYTES_MAX || offset + 8 + length > bytes.length) break;
      const body = bytes.subarray(offset + 8, offset + 8 + length);
      if (crc32c(body) !== checksum) break;
      try {
        records.push(JSON.parse(body.toString('utf8')));
      } catch {
        break;
      }
      offset += 8 + length;
    }
    if (offset < bytes.length) {
      // Only the tail can be torn: everything before it was synced before it was acknowledged.
      // Cut, not overwritten: left in place, the torn bytes would sit in front of every later
      // append, and the next start would cut those too.
      const fd = openSync(logPath, 'r+');
      try {
        ftruncateSync(fd, offset);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      return { snapshot, records, truncatedAt: offset };
    }
    return { snapshot, records };
  }

  /** Resolves once the record is on disk (fdatasync), together with whatever came with it. */
  append(record: unknown): Promise<void> {
    if (this.pending.length >= PENDING_MAX)
      return Promise.reject(new Error('delta log is overloaded: too many writes waiting'));
    const body = Buffer.from(JSON.stringify(record), 'utf8');
    if (body.length > RECORD_BYTES_MAX) return Promise.reject(new Error('record too large'));
    const header = Buffer.alloc(8);
    header.writeUInt32BE(body.length, 0);
    header.writeUInt32BE(crc32c(body), 4);
    return new Promise((resolve, reject) => {
      this.pending.push({
        bytes: Buffer.concat([header, body]),
        done: (error) => (error ? reject(error) : resolve()),
      });
      void this.flush();
    });
  }

  private flush(): Promise<void> {
    if (this.writing || this.pending.length === 0 || !this.file) return this.inFlight;
    this.writing = true;
    this.inFlight = this.writeBatch();
    return this.inFlight;
  }

  private async writeBatch(): Promise<void> {
    // What the rest of this turn of the event loop appends goes in the same write.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const batch = this.pending;
    this.pending = [];
    const file = this.file!;
    try {
      // Opened with O_DSYNC when syncing: the write returns once its bytes are on disk, one
      // system call instead of a write and an fdatasync. Each write waits for the one before
      // it, so everything before it is on disk too.
      await this.inlineWrites.write(file, Buffer.concat(batch.map((p) => p.bytes)));
      if (this.fsync) this.syncs += 1;
      this.appendedSinceSnapshot += batch.length;
      for (const p of batch) p.done();
    } catch (error) {
      for (const p of batch) p.done(error as Error);
    } finally {
      this.writing = false;
      void this.flush();
    }
  }

  /**
   * Replaces log + snapshot by one snapshot, without holding appends back while it is written:
   * the state is captured between two writes (so it holds every record up to the log's end at
   * that moment, `cutAt`), serialized a slice at a time into a temporary file (the event loop
   * and the appends go on meanwhile), synced and renamed over the old snapshot; then, held
   * between two writes again, the log keeps only what was appended after `cutAt` (rewritten to
   * a temporary file and renamed, so a crash leaves either log whole). A crash in between
   * replays old records into the new snapshot, which must be harmless (joins, idempotent
   * applies). `state()` must return a copy: it is serialized after appends went on.
   */
  snapshot(state: () => unknown): Promise<void> {
    const next = this.snapshotting.then(() => this.takeSnapshot(state));
    this.snapshotting = next.catch(() => undefined);
    return next;
  }

  private async takeSnapshot(state: () => unknown): Promise<void> {
    if (!this.file) return;
    const { captured, cutAt, records } = await this.betweenWrites(async () => ({
      captured: state(),
      cutAt: (await this.file!.stat()).size,
      records: this.appendedSinceSnapshot,
    }));
    await this.writeSnapshotFile(captured);
    await this.betweenWrites(() => this.dropLogBefore(cutAt));
    this.appendedSinceSnapshot -= records;
  }

  /** Runs `work` with no write in flight and none starting (appends wait in `pending`). */
  private async betweenWrites<T>(work: () => Promise<T>): Promise<T> {
    while (this.writing) await this.inFlight;
    this.writing = true;
    try {
      return await work();
    } finally {
      this.writing = false;
      void this.flush();
    }
  }

  private async writeSnapshotFile(state: unknown): Promise<void> {
    const tmp = join(this.dir, `${this.files.snapshot}.tmp`);
    const file = await open(tmp, 'w');
    try {
      let gathered: string[] = [];
      let bytes = 0;
      for (const slice of jsonSlices(state)) {
        gathered.push(slice);
        bytes += slice.length;
        if (bytes < SNAPSHOT_WRITE_BYTES) continue;
        await file.write(gathered.join(''));
        gathered = [];
        bytes = 0;
      }
      await file.write(gathered.join(''));
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, join(this.dir, this.files.snapshot));
  }

  /** Removes the log's first `cutAt` bytes (all of it when nothing came after). */
  private async dropLogBefore(cutAt: number): Promise<void> {
    const file = this.file!;
    const size = (await file.stat()).size;
    if (size === cutAt) {
      await file.truncate(0);
      if (this.fsync) await file.datasync();
      return;
    }
    const logPath = join(this.dir, this.files.log);
    // The log is open for appending only: read its tail through another handle.
    const tail = Buffer.alloc(size - cutAt);
    const reader = await open(logPath, 'r');
    try {
      await reader.read(tail, 0, tail.length, cutAt);
    } finally {
      await reader.close();
    }
    const tmp = `${logPath}.tmp`;
    const rewritten = await open(tmp, 'w');
    try {
      await rewritten.write(tail);
      await rewritten.sync();
    } finally {
      await rewritten.close();
    }
    await rename(tmp, logPath);
    await file.close();
    this.file = await this.openForAppends();
  }

  /** The log for appending; with O_DSYNC when every write must be on disk before it is answered. */
  private openForAppends(): Promise<FileHandle> {
    return open(join(this.dir, this.files.log), appendFlags(this.fsync, 'create'));
  }

  async close(): Promise<void> {
    await this.snapshotting;
    while (this.writing) await this.inFlight;
    await this.file?.close();
    this.file = undefined;
  }
}

/**
 * `JSON.stringify(value)` in slices: the top `depth` levels of plain objects and arrays are
 * cut member by member (deeper values are stringified whole), so a large snapshot such as
 * `{decided: [100,000 answers]}` is serialized a little at a time between writes instead of in
 * one long stop of the event loop. Joined, the slices are exactly what JSON.stringify gives
 * (undefined, function and symbol object members left out; in arrays null).
 */
export function* jsonSlices(value: unknown, depth = 2): Generator<string> {
  const plain =
    value !== null &&
    typeof value === 'object' &&
    typeof (value as { toJSON?: unknown }).toJSON !== 'function';
  if (depth === 0 || !plain) {
    yield JSON.stringify(value) ?? 'null';
    return;
  }
  const array = Array.isArray(value);
  const entries: [string, unknown][] = array
    ? value.map((item, i) => [String(i), item])
    : Object.entries(value).filter(
        ([, item]) => item !== undefined && typeof item !== 'function' && typeof item !== 'symbol',
      );
  yield array ? '[' : '{';
  for (let i = 0; i < entries.length; i += 1) {
    const [key, item] = entries[i];
    yield (i === 0 ? '' : ',') + (array ? '' : `${JSON.stringify(key)}:`);
    yield* jsonSlices(item, depth - 1);
  }
  yield array ? ']' : '}';
}
