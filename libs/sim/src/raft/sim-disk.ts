import { EMPTY_HARD_STATE, Entry, HardState, Snapshot } from '@parley/raft';
import type { RecoveredLog, SnapshotStorePort, WalPort } from '@parley/replica';
import { Rng } from './rng';

/** One checksummed WAL record, as the real WAL writes them: a torn write keeps a prefix. */
type DiskRecord =
  | { kind: 'entry'; entry: Entry }
  | { kind: 'hard-state'; hardState: HardState }
  | { kind: 'snapshot-marker'; index: number; term: number };

export interface SimDiskFaults {
  /**
   * A broken fsync, for the checker's own test: at each restart the last N entries that were
   * reported synced are gone (commit is clamped to what is left, as a real replay would).
   */
  loseEntriesOnRestart?: number;
}

/**
 * A replica's disk in the simulator, reached through the same ports as the real WAL and
 * snapshot store. Writes land in a page cache; a sync makes everything written so far durable.
 * A power loss keeps a random prefix of the unsynced records (a torn write) and loses the rest.
 * Each `open()` is one process's handle: after a crash it is fenced, so a dead process's
 * pending writes never land and its promises never resolve.
 */
export class SimDisk {
  private durable: DiskRecord[] = [];
  private cached: DiskRecord[] = [];
  private snapshot: Snapshot | undefined;
  private handle: { alive: boolean } | undefined;
  /** Armed by the nemesis: the power fails during the next write that carries entries. */
  powerLossArmed = false;
  syncs = 0;

  constructor(
    private readonly rng: Rng,
    private readonly faults: SimDiskFaults,
    /** Told when an armed power loss strikes (the process must be dropped). */
    private readonly onPowerLoss: () => void,
  ) {}

  /** Opens the disk for a (re)started process: its WAL, snapshot store, and what they hold. */
  open(): { wal: WalPort; snapshotStore: SnapshotStorePort; recovered: RecoveredLog } {
    if (this.faults.loseEntriesOnRestart && this.handle) this.loseSyncedTail();
    const handle = { alive: true };
    this.handle = handle;
    const never = new Promise<never>(() => undefined);
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const disk = this;
    let lastHardState = replay(this.durable).hardState;
    // The real WAL's rule for a commit alone: held in the process, written with the next write
    // (or at close), so a crash loses it.
    let deferred = false;
    const wal: WalPort = {
      get syncs() {
        return disk.syncs;
      },
      save(hardState, entries) {
        if (!handle.alive) return never;
        if (hardState === undefined && entries.length === 0) return Promise.resolve();
        // The real WAL's rule: entries, a new term or a vote are synced; a commit alone is not
        // written until then.
        const mustSync =
          entries.length > 0 ||
          (hardState !== undefined &&
            (hardState.term !== lastHardState.term || hardState.vote !== lastHardState.vote));
        if (hardState) lastHardState = hardState;
        if (!mustSync) {
          deferred = true;
          return Promise.resolve();
        }
        for (const entry of entries) disk.cached.push({ kind: 'entry', entry });
        if (hardState || deferred)
          disk.cached.push({ kind: 'hard-state', hardState: lastHardState });
        deferred = false;
        if (disk.powerLossArmed && entries.length > 0) {
          disk.powerLossArmed = false;
          disk.onPowerLoss();
          return never;
        }
        disk.sync();
        return Promise.resolve();
      },
      saveSnapshotMarker(index, term) {
        if (!handle.alive) return never;
        disk.cached.push({ kind: 'snapshot-marker', index, term });
        disk.sync();
        return Promise.resolve();
      },
      compact(snapshotIndex) {
        if (handle.alive) disk.compact(snapshotIndex);
      },
      close() {
        if (handle.alive && deferred) {
          disk.cached.push({ kind: 'hard-state', hardState: lastHardState });
          deferred = false;
          disk.sync();
        }
        return Promise.resolve();
      },
    };
    const snapshotStore: SnapshotStorePort = {
      save(snapshot) {
        if (!handle.alive) return never;
        // Written aside and renamed into place: a snapshot is whole or absent.
        if (!disk.snapshot || snapshot.meta.index > disk.snapshot.meta.index)
          disk.snapshot = snapshot;
        return Promise.resolve();
      },
      loadLatest: () => Promise.resolve(disk.snapshot),
    };
    return { wal, snapshotStore, recovered: replay(this.durable) };
  }

  /** The process died with the machine: unsynced writes are torn or lost. */
  powerLoss(): void {
    if (this.handle) this.handle.alive = false;
    this.powerLossArmed = false;
    const kept = this.rng.nextInt(this.cached.length + 1);
    this.durable.push(...this.cached.slice(0, kept));
    this.cached = [];
  }

  private sync(): void {
    this.durable.push(...this.cached);
    this.cached = [];
    this.syncs += 1;
  }

  /** Rewrites the durable records as what they replay to, without what the snapshot covers. */
  private compact(snapshotIndex: number): void {
    const log = replay(this.durable);
    this.durable = toRecords({
      ...log,
      entries: log.entries.filter((e) => e.index > snapshotIndex),
    });
  }

  private loseSyncedTail(): void {
    const log = replay(this.durable);
    const keep = log.entries.slice(
      0,
      Math.max(0, log.entries.length - this.faults.loseEntriesOnRestart!),
    );
    const last = keep.length > 0 ? keep[keep.length - 1].index : (log.snapshot?.index ?? 0);
    this.durable = toRecords({
      ...log,
      entries: keep,
      hardState: { ...log.hardState, commit: Math.min(log.hardState.commit, last) },
    });
  }
}

function toRecords(log: RecoveredLog): DiskRecord[] {
  const records: DiskRecord[] = [];
  if (log.snapshot) records.push({ kind: 'snapshot-marker', ...log.snapshot });
  for (const entry of log.entries) records.push({ kind: 'entry', entry });
  records.push({ kind: 'hard-state', hardState: log.hardState });
  return records;
}

/**
 * What the real WAL's replay makes of its records: the last hard state, the newest snapshot
 * marker, and the entries after it where a rewrite of index i drops i and what follows.
 */
function replay(records: readonly DiskRecord[]): RecoveredLog {
  let hardState = EMPTY_HARD_STATE;
  let snapshot: RecoveredLog['snapshot'];
  for (const record of records)
    if (record.kind === 'snapshot-marker' && (!snapshot || record.index >= snapshot.index))
      snapshot = { index: record.index, term: record.term };
  const floor = snapshot?.index ?? 0;
  const entries: Entry[] = [];
  for (const record of records) {
    if (record.kind === 'hard-state') hardState = record.hardState;
    if (record.kind !== 'entry') continue;
    const entry = record.entry;
    while (entries.length > 0 && entries[entries.length - 1].index >= entry.index) entries.pop();
    if (entry.index <= floor) continue;
    const expected = entries.length > 0 ? entries[entries.length - 1].index + 1 : floor + 1;
    if (entry.index !== expected)
      throw new Error(`simulated WAL: entry ${entry.index} leaves a gap after ${expected - 1}`);
    entries.push(entry);
  }
  return { hardState, entries, snapshot };
}
