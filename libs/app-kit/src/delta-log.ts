import { crc32c } from '@parley/common';
import {
  closeSync,
  existsSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Local durability of a process's own state (a crdt replica's, decision-api's outbox): an
 * append-only log of records ([len u32][crc32c u32][json]) plus a full-state snapshot file.
 * Appends are group-committed: whatever arrives while a write+fdatasync is in flight goes out in
 * the next one, so a 202 means "on this disk". On start the snapshot is loaded and the log
 * replayed; a torn or corrupt tail is cut off with a log line (a crash mid-write loses only what
 * was never acknowledged). Replaying a record already in the snapshot must be harmless (see
 * snapshot()).
 */
const RECORD_BYTES_MAX = 16 * 1024 * 1024;
const PENDING_MAX = 100_000;

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
  appendedSinceSnapshot = 0;
  syncs = 0;

  private constructor(
    private readonly dir: string,
    private readonly fsync: boolean,
    private readonly files: DeltaLogFiles,
  ) {}

  static async open(
    dir: string,
    fsync = true,
    files: DeltaLogFiles = CRDT_FILES,
  ): Promise<{ log: DeltaLog; replay: DeltaLogReplay }> {
    const log = new DeltaLog(dir, fsync, files);
    const replay = log.read();
    log.file = await open(join(dir, files.log), 'a');
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
    const batch = this.pending;
    this.pending = [];
    const file = this.file!;
    try {
      await file.write(Buffer.concat(batch.map((p) => p.bytes)));
      if (this.fsync) {
        await file.datasync();
        this.syncs += 1;
      }
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
   * Replaces log + snapshot by one snapshot: written to a temporary file, synced, renamed over
   * the old one, then the log is emptied. A crash in between replays old deltas into the new
   * snapshot, which is harmless: joins are idempotent.
   */
  async snapshot(state: () => unknown): Promise<void> {
    // Hold appends back while the snapshot replaces the log: taken after the last write
    // finished, the captured state already holds every record written so far.
    while (this.writing) await this.inFlight;
    this.writing = true;
    try {
      await this.replaceWithSnapshot(state());
    } finally {
      this.writing = false;
      void this.flush();
    }
  }

  private async replaceWithSnapshot(state: unknown): Promise<void> {
    const tmp = join(this.dir, `${this.files.snapshot}.tmp`);
    const fd = openSync(tmp, 'w');
    try {
      writeFileSync(fd, JSON.stringify(state));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, join(this.dir, this.files.snapshot));
    await this.file?.truncate(0);
    if (this.fsync) await this.file?.datasync();
    this.appendedSinceSnapshot = 0;
  }

  async close(): Promise<void> {
    await this.file?.close();
    this.file = undefined;
  }
}
