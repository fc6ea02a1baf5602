import CircuitBreaker from 'opossum';
import { Snapshot } from '@parley/raft';
import { backoffDelayMs, createBreaker } from '@parley/resilience';
import { SnapshotStore } from './snapshot-store';

export interface TieredStoreLogger {
  log(message: string): void;
  warn(message: string): void;
}

/**
 * Local disk first, S3 behind it. A save is durable once the local copy is written; the upload
 * to S3 happens in the background through a circuit breaker, retried with back-off and full
 * jitter, so an S3 outage never stops the replica. Only the newest pending snapshot is uploaded.
 */
export class TieredSnapshotStore implements SnapshotStore {
  private pending: Snapshot | undefined;
  private uploading = false;
  private attempts = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly breaker: CircuitBreaker<[Snapshot], void>;
  uploaded = 0;

  constructor(
    private readonly local: SnapshotStore,
    private readonly remote: SnapshotStore,
    private readonly logger: TieredStoreLogger,
    private readonly retryDelayMsMax = 30_000,
    /** An upload attempt slower than this is abandoned and retried (a stuck connection). */
    attemptTimeoutMs = 60_000,
  ) {
    this.breaker = createBreaker((snapshot: Snapshot) => this.remote.save(snapshot), {
      name: 's3-snapshots',
      timeoutMs: attemptTimeoutMs,
      errorThresholdPercentage: 50,
      resetTimeoutMs: 10_000,
      volumeThreshold: 2,
    });
  }

  async save(snapshot: Snapshot): Promise<void> {
    await this.local.save(snapshot);
    this.pending = snapshot;
    this.attempts = 0;
    this.kick(0);
  }

  async loadLatest(): Promise<Snapshot | undefined> {
    return (await this.local.loadLatest()) ?? this.remote.loadLatest();
  }

  list(): Promise<number[]> {
    return this.local.list();
  }

  /** Index of the snapshot still waiting for S3, if any (for metrics and tests). */
  pendingUpload(): number | undefined {
    return this.pending?.meta.index;
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.breaker.shutdown();
  }

  private kick(delayMs: number): void {
    if (this.uploading || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.upload();
    }, delayMs);
    this.timer.unref();
  }

  private async upload(): Promise<void> {
    const snapshot = this.pending;
    if (!snapshot) return;
    this.uploading = true;
    try {
      await this.breaker.fire(snapshot);
      if (this.pending === snapshot) this.pending = undefined;
      this.uploaded += 1;
      this.attempts = 0;
      this.logger.log(`snapshot ${snapshot.meta.index} uploaded to S3`);
    } catch (error) {
      this.attempts += 1;
      this.logger.warn(
        `snapshot ${snapshot.meta.index} not uploaded yet (attempt ${this.attempts}): ${(error as Error).message}`,
      );
    } finally {
      this.uploading = false;
    }
    if (this.pending)
      this.kick(
        Math.max(
          100,
          backoffDelayMs(
            this.attempts,
            { delayMsBase: 200, delayMsMax: this.retryDelayMsMax },
            Math.random,
          ),
        ),
      );
  }
}
