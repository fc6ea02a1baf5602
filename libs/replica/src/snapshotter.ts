import type { ConfState, MemoryStorage } from '@parley/raft';
import { Clock, nextTurn } from './clock.port';
import type { SnapshotStorePort } from './snapshot-store.port';
import type { ReplicatedStateMachine } from './state-machine.port';
import type { WalPort } from './wal.port';

export interface SnapshotterOptions {
  storage: MemoryStorage;
  stateMachine: ReplicatedStateMachine;
  wal: WalPort;
  snapshotStore: SnapshotStorePort;
  clock: Clock;
  logger: { log(message: string): void; error(message: string): void };
  /** Take a snapshot after this many applied entries. */
  everyEntries: number;
  /** Entries kept in memory behind a snapshot, so slightly slow followers need no snapshot. */
  compactionTailEntries: number;
  /** The highest index a snapshot may cover (the Kafka mirror's cursor), if limited. */
  floor?: () => number | undefined;
  /** How far the floor may hold snapshots back before one is taken anyway. */
  holdEntriesMax?: number;
}

/**
 * The replica's own snapshots: when one is due, taking the state machine's view, writing it,
 * marking it in the WAL and compacting the log behind it; one at a time.
 */
export class Snapshotter {
  /** The index of the newest snapshot taken or installed (0: none yet). */
  lastIndex = 0;
  private writing: Promise<number> | undefined;

  constructor(private readonly options: SnapshotterOptions) {}

  get busy(): boolean {
    return this.writing !== undefined;
  }

  /** Whether a snapshot should start now, with `applied` entries applied. */
  due(applied: number): boolean {
    return (
      this.writing === undefined &&
      applied - this.lastIndex >= this.options.everyEntries &&
      this.allowed(applied)
    );
  }

  /** Waits for a snapshot being written, if any (its failure was reported already). */
  async finished(): Promise<void> {
    await this.writing?.catch(() => undefined);
  }

  /** A snapshot may not cover entries the Kafka mirror still needs, within a bound. */
  private allowed(applied: number): boolean {
    const floor = this.options.floor?.();
    if (floor === undefined || floor >= applied) return true;
    const lag = applied - floor;
    if (lag <= (this.options.holdEntriesMax ?? Number.MAX_SAFE_INTEGER)) return false;
    this.options.logger.error(
      `snapshot taken although the Kafka mirror lags ${lag} entries: the bound was exceeded`,
    );
    return true;
  }

  /**
   * Snapshots the state as applied now (`index`): the state machine takes its view at once,
   * then it is serialized in steps with the event loop (heartbeats, replication, answers)
   * running between them, unless `replaying` (the loop waits for it then), and written. A
   * second request while one is under way gets that one.
   */
  take(index: number, confState: ConfState, replaying: boolean): Promise<number> {
    if (this.writing) return this.writing;
    if (index <= this.lastIndex) return Promise.resolve(this.lastIndex);
    const machine = this.options.stateMachine;
    const steps = machine.snapshotSteps?.();
    // The first step takes the view of the state at `index`, before anything else applies.
    const first = steps?.next();
    this.writing = (async () => {
      let data: Uint8Array;
      if (steps && first) {
        let step = first;
        while (!step.done) {
          if (!replaying) await nextTurn(this.options.clock);
          step = steps.next();
        }
        data = step.value;
      } else {
        data = machine.snapshot();
      }
      return this.persist(index, confState, data);
    })().finally(() => (this.writing = undefined));
    return this.writing;
  }

  private async persist(index: number, confState: ConfState, data: Uint8Array): Promise<number> {
    const { storage, wal } = this.options;
    // A newer snapshot arrived from the leader meanwhile and replaced this state.
    if (index <= this.lastIndex) return this.lastIndex;
    const snapshot = storage.createSnapshot(index, confState, data);
    await this.options.snapshotStore.save(snapshot);
    // The same, while it was being written: the newer one's marker must stay the last.
    if (index <= this.lastIndex) return this.lastIndex;
    await wal.saveSnapshotMarker(snapshot.meta.index, snapshot.meta.term);
    this.lastIndex = Math.max(this.lastIndex, index);
    const keepFrom = Math.max(storage.firstIndex(), index - this.options.compactionTailEntries);
    if (keepFrom > storage.firstIndex()) storage.compact(keepFrom);
    wal.compact(index);
    this.options.logger.log(`snapshot at index ${index} (${data.length} bytes)`);
    return index;
  }
}
