import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { Snapshot } from '@parley/raft';
import { decodeSnapshot, encodeSnapshot } from './format';
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
 */
export class FsSnapshotStore implements SnapshotStore {
  constructor(
    private readonly dir: string,
    private readonly retain: number,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  async save(snapshot: Snapshot): Promise<void> {
    const name = fileName(snapshot.meta.index, snapshot.meta.term);
    const temporary = join(this.dir, `${name}.tmp`);
    writeFileSync(temporary, encodeSnapshot(snapshot));
    const fd = openSync(temporary, 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, join(this.dir, name));
    syncDir(this.dir);
    this.prune();
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

  private prune(): void {
    for (const old of this.files().slice(this.retain)) unlinkSync(join(this.dir, old.name));
    for (const name of readdirSync(this.dir))
      if (name.endsWith('.tmp')) unlinkSync(join(this.dir, name));
  }
}

function fileName(index: number, term: number): string {
  return `snap-${String(index).padStart(16, '0')}-${String(term).padStart(16, '0')}.snap`;
}

function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
