import type { Entry, HardState } from '@parley/raft';

/**
 * The replica's write-ahead log. `save` must make entries and any new term or vote durable
 * before it resolves (a commit-only change may stay unsynced: commit is learnt again from the
 * leader); a rejection means the log's state is unknown and stops the replica.
 */
export interface WalPort {
  save(hardState: HardState | undefined, entries: readonly Entry[]): Promise<void>;
  /** Durably records that entries up to `index` are in a stored snapshot. */
  saveSnapshotMarker(index: number, term: number): Promise<void>;
  /** Forgets what a snapshot at `snapshotIndex` covers (may do nothing). */
  compact(snapshotIndex: number): void;
  close(): Promise<void>;
  /** Syncs done since open (group commit: one per Ready, not per entry). */
  readonly syncs: number;
}

/** What a WAL held when it was opened: the input of the replica's recovery. */
export interface RecoveredLog {
  hardState: HardState;
  /** Entries after the snapshot marker, in index order. */
  entries: Entry[];
  /** The newest snapshot marker: entries up to it must be in the snapshot store. */
  snapshot: { index: number; term: number } | undefined;
}
