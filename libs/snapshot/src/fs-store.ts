import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { open, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Snapshot } from '@parley/raft';
import { decodeSnapshot, encodeSnapshotPieces } from './format';
import { SnapshotStore } from './snapshot-store';

const FILE_PATTERN = /^snap-(\d{16})-(\d{16})\.snap$/;

export class SnapshotCorruptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotCorruptError';
  }
}

/**
 * Snapshots as files: written to a temporary name, fsynced, renamed into place and the folder
 * fsynced, so a crash leaves either the old set or the new one. Keeps the newest `retain`.
 * Saving never blocks the event loop (no sync fs: a 27 MB snapshot written with sync calls
 * held a replica's loop for ~0.3 s, long enough to cost an election).
 */
export class FsSnapshotStore implements SnapshotStore {
  constructor(
    private readonly dir: string,
    private readonly retain: number,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  /** Saves run one after another: one's clean-up must not remove another's temporary file. */
  private saving: Promise<void> = Promise.resolve();

  save(snapshot: Snapshot): Promise<void> {
    const saved = this.saving.then(() => this.write(snapshot));
    this.saving = saved.catch(() => undefined);
    return saved;
  }

  private async write(snapshot: Snapshot): Promise<void> {
    const name = fileName(snapshot.meta.index, snapshot.meta.term);
    const temporary = join(this.dir, `${name}.tmp`);
    const pieces = await encodeSnapshotPieces(snapshot);
    const file = await open(temporary, 'w');
    try {
      // writeFile on a handle writes from the current position, all of it, in bounded chunks.
      for (const piece of pieces) await file.writeFile(piece);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, join(this.dir, name));
    await syncDir(this.dir);
    await this.prune();
  }

  /** Files are refused when they fail their checks: a replica never starts from garbage. */
  async loadLatest(): Promise<Snapshot | undefined> {
    const newest = this.files()[0];
    if (newest === undefined) return undefined;
    const decoded = decodeSnapshot(readFileSync(join(this.dir, newest.name)));
    if ('error' in decoded)
      throw new SnapshotCorruptError(`snapshot ${newest.name} refused: ${decoded.error}`);
    if (decoded.meta.index !== newest.index)
      throw new SnapshotCorruptError(`snapshot ${newest.name} holds index ${decoded.meta.index}`);
    return decoded;
  }

  async list(): Promise<number[]> {
    return this.files().map((f) => f.index);
  }

  private files(): { name: string; index: number }[] {
    return readdirSync(this.dir)
      .map((name) => ({ name, match: FILE_PATTERN.exec(name) }))
      .filter((f): f is { name: string; match: RegExpExecArray } => f.match !== null)
      .map((f) => ({ name: f.name, index: Number(f.match[1]) }))
      .sort((a, b) => b.index - a.index);
  }

  private async prune(): Promise<void> {
    for (const old of this.files().slice(this.retain)) await unlink(join(this.dir, old.name));
    for (const name of await readdir(this.dir))
      if (name.endsWith('.tmp')) await unlink(join(this.dir, name));
  }
}

function fileName(index: number, term: number): string {
  return `snap-${String(index).padStart(16, '0')}-${String(term).padStart(16, '0')}.snap`;
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
