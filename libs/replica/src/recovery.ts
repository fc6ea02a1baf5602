import type { MemoryStorage, Snapshot } from '@parley/raft';
import type { RecoveredLog } from './wal.port';

export interface Recovered {
  /** The index the state machine holds after restoring the snapshot (0: none). */
  snapshotIndex: number;
  /** The commit index recovered: below it, the replica replays its own log. */
  commit: number;
  /** Nothing on disk at all: a first start. */
  fresh: boolean;
}

/**
 * Rebuilds the in-memory log from the newest snapshot and the WAL. Refuses to start when the
 * WAL says entries are in a snapshot that is not there (they would be lost).
 */
export function recoverLog(
  storage: MemoryStorage,
  log: RecoveredLog,
  snapshot: Snapshot | undefined,
): Recovered {
  if (log.snapshot && (!snapshot || snapshot.meta.index < log.snapshot.index)) {
    throw new Error(
      `the WAL says entries up to ${log.snapshot.index} are in a snapshot, but the newest stored snapshot is ${snapshot?.meta.index ?? 'missing'}`,
    );
  }
  if (snapshot) storage.applySnapshot(snapshot);
  // A commit-only advance is written without fsync (see WalPort.save), so after a power loss
  // the durable commit can trail a snapshot taken later; the snapshot holds only committed
  // entries. The same holds when a snapshot was stored and the hard state after it was lost.
  storage.setHardState({
    ...log.hardState,
    commit: Math.max(log.hardState.commit, snapshot?.meta.index ?? 0),
  });
  // A snapshot saved just before a crash may be newer than the WAL's marker.
  storage.append(log.entries.filter((e) => e.index > storage.lastIndex()));
  return {
    snapshotIndex: snapshot?.meta.index ?? 0,
    commit: storage.getHardState().commit,
    fresh: log.entries.length === 0 && !snapshot && log.hardState.term === 0,
  };
}
