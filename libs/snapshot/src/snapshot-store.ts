import { Snapshot } from '@parley/raft';

/** Where a replica keeps its snapshots: the local filesystem by default, or S3. */
export interface SnapshotStore {
  /** Stores a snapshot durably; resolves once it is safe to compact the log up to it. */
  save(snapshot: Snapshot): Promise<void>;
  /** The newest snapshot that passes its checks, or undefined if there is none. */
  loadLatest(): Promise<Snapshot | undefined>;
  /** Indexes of the stored snapshots, newest first. */
  list(): Promise<number[]>;
}
