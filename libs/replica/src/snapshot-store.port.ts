import type { Snapshot } from '@parley/raft';

/** Where the replica keeps its snapshots (the local disk, S3 behind it, or a simulated disk). */
export interface SnapshotStorePort {
  /** Resolves once the snapshot is durable: the log may then be compacted up to it. */
  save(snapshot: Snapshot): Promise<void>;
  /** The newest snapshot that passes its checks, or undefined if there is none. */
  loadLatest(): Promise<Snapshot | undefined>;
}
