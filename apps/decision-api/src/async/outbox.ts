import { Logger } from '@nestjs/common';
import { DeltaLog } from '@parley/app-kit';
import { InlineWrites } from '@parley/common';
import { mkdirSync } from 'node:fs';
import {
  AcceptedRequest,
  Admission,
  DecidedRequest,
  OutboxLimits,
  OutboxRecord,
  OutboxSnapshot,
  OutboxState,
  admitAgain,
} from './outbox-state';

/** The outbox's two files in PARLEY_OUTBOX_DIR. */
export const OUTBOX_FILES = { log: 'outbox.log', snapshot: 'outbox.json' };

/** Journal records between compactions, at least; more when the outbox holds more. */
const COMPACT_AFTER_RECORDS_MIN = 1_000;

/**
 * decision-api's outbox: where a `Prefer: respond-async` write is "durably queued". A request is
 * answered 202 only once its `accepted` record is fdatasync'ed to `outbox.log` in this process's
 * PARLEY_OUTBOX_DIR (group commit: records arriving during one sync go in the next). Its answer,
 * once decided, is an appended `decided` record. On start the snapshot and the journal are
 * replayed (a torn tail is cut), so a kill -9 loses nothing that was answered 202; the journal
 * is compacted into `outbox.json` as it grows. Bounded in entries and bytes (503 beyond), and
 * in decided answers kept.
 */
export class Outbox {
  private readonly logger = new Logger('Outbox');
  /**
   * Requests whose `accepted` record is being written (counted against the limits), with the
   * write: a retry arriving meanwhile is answered once the first is on disk too.
   */
  private readonly writing = new Map<
    string,
    { request: AcceptedRequest; written: Promise<void> }
  >();
  private writingBytes = 0;
  private compacting = false;
  private readonly listeners: (() => void)[] = [];

  private constructor(
    private readonly log: DeltaLog,
    private readonly state: OutboxState,
  ) {}

  static async open(
    dir: string,
    limits: OutboxLimits,
    fsync = true,
    inlineWrites = new InlineWrites(),
  ): Promise<Outbox> {
    mkdirSync(dir, { recursive: true });
    const { log, replay } = await DeltaLog.open(dir, fsync, OUTBOX_FILES, inlineWrites);
    const state = new OutboxState(limits);
    if (replay.snapshot !== undefined) state.restore(replay.snapshot as OutboxSnapshot);
    for (const record of replay.records) state.apply(record as OutboxRecord);
    const outbox = new Outbox(log, state);
    if (replay.truncatedAt !== undefined)
      outbox.logger.warn(`outbox.log had a torn tail: cut at byte ${replay.truncatedAt}`);
    return outbox;
  }

  /** Requests waiting to be decided. */
  get depth(): number {
    return this.state.depth;
  }

  get pendingBytes(): number {
    return this.state.pendingBytes;
  }

  /** Called whenever a request is accepted (the drainer wakes up). */
  onAccepted(listener: () => void): void {
    this.listeners.push(listener);
  }

  /**
   * Accepts `request` once it is on disk; `known` for a retry of one already accepted or
   * decided (nothing written), `key-reuse` or `full` refuse it.
   */
  async accept(request: AcceptedRequest): Promise<Admission> {
    const writing = this.writing.get(request.requestId);
    if (writing) {
      const admission = admitAgain(writing.request, request);
      if (admission.kind === 'known') await writing.written;
      return admission;
    }
    const admission = this.state.admit(request, {
      entries: this.writing.size,
      bytes: this.writingBytes,
    });
    if (admission.kind !== 'admit') return admission;
    const bytes = JSON.stringify(request.command).length;
    const written = this.log.append({ op: 'accepted', request } satisfies OutboxRecord);
    this.writing.set(request.requestId, { request, written });
    this.writingBytes += bytes;
    try {
      await written;
    } finally {
      this.writing.delete(request.requestId);
      this.writingBytes -= bytes;
    }
    this.state.apply({ op: 'accepted', request });
    for (const listener of this.listeners) listener();
    return admission;
  }

  /**
   * Records a request's answer. Held in memory at once; a crash before its record is synced
   * only means the request is proposed again at start, and the session table replays it.
   */
  async decide(decided: DecidedRequest): Promise<void> {
    this.state.apply({ op: 'decided', decided });
    try {
      await this.log.append({ op: 'decided', decided } satisfies OutboxRecord);
    } catch (error) {
      this.logger.error(`could not journal the answer of ${decided.requestId}: ${String(error)}`);
    }
    // Not awaited: the drainer goes on while the snapshot is written (appends are not held
    // back by it either, see DeltaLog.snapshot), and close() waits for it.
    void this.compactIfLarge();
  }

  pendingRequest(requestId: string): AcceptedRequest | undefined {
    return this.state.pendingRequest(requestId) ?? this.writing.get(requestId)?.request;
  }

  decidedRequest(requestId: string): DecidedRequest | undefined {
    return this.state.decidedRequest(requestId);
  }

  heads(max: number): AcceptedRequest[] {
    return this.state.heads(max);
  }

  /** Rewrites the journal as one snapshot once it holds many more records than the state. */
  private async compactIfLarge(): Promise<void> {
    const live = this.state.depth + this.state.decidedCount;
    if (
      this.compacting ||
      this.log.appendedSinceSnapshot < Math.max(COMPACT_AFTER_RECORDS_MIN, 2 * live)
    )
      return;
    this.compacting = true;
    try {
      await this.log.snapshot(() => this.state.snapshot());
    } catch (error) {
      // The journal stays as it was (longer): the next decision tries again.
      this.logger.error(`could not compact the outbox: ${String(error)}`);
    } finally {
      this.compacting = false;
    }
  }

  async close(): Promise<void> {
    await this.log.close();
  }
}
