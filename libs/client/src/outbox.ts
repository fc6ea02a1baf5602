import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { backoffDelayMs } from '@parley/resilience';
import { ParleyError, ParleyOutcomeUnknown, ParleyRateLimited, ParleyUnavailable } from './errors';
import type { BackoffOptions } from './retry-policy';

/**
 * The client-side outbox (opt-in): an idempotent command (a strong write with its requestId)
 * that no endpoint took is kept here and sent again, in order, with back-off, until an endpoint
 * takes it. Bounded; in memory, or in a file the caller names (rewritten and flushed on every
 * change, so a restarted agent picks up where it was). Sending again is safe because the
 * requestId makes the cluster apply it at most once.
 */
export interface OutboxEntry {
  method: string;
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  requestId: string;
  queuedAtMs: number;
}

export interface OutboxOptions {
  /** At most this many commands wait; one more is refused with ParleyUnavailable. */
  entriesMax: number;
  /** Keep the commands in this file (JSON lines) instead of only in memory. */
  file?: string;
  /** A command the cluster refused for good (a 4xx): it leaves the outbox and is reported here. */
  onDropped?: (entry: OutboxEntry, error: ParleyError) => void;
}

/** Errors that mean "no endpoint took it now": keep the command and try again later. */
function worthAnotherTry(error: unknown): boolean {
  return (
    error instanceof ParleyUnavailable ||
    error instanceof ParleyOutcomeUnknown ||
    error instanceof ParleyRateLimited ||
    !(error instanceof ParleyError)
  );
}

export class Outbox {
  private readonly entries: OutboxEntry[];
  private draining: Promise<void> | undefined;
  private closed = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly options: OutboxOptions,
    private readonly send: (entry: OutboxEntry) => Promise<unknown>,
    private readonly backoff: BackoffOptions,
    private readonly random: () => number,
  ) {
    if (!Number.isInteger(options.entriesMax) || options.entriesMax < 1)
      throw new RangeError('outbox.entriesMax must be a positive integer');
    this.entries = options.file ? load(options.file) : [];
    if (this.entries.length > 0) this.drain();
  }

  get size(): number {
    return this.entries.length;
  }

  /** The commands waiting, oldest first (copies). */
  pending(): OutboxEntry[] {
    return this.entries.map((entry) => ({ ...entry }));
  }

  add(entry: OutboxEntry): void {
    if (this.closed)
      throw new ParleyUnavailable('the client is closed', { requestId: entry.requestId });
    if (this.entries.some((e) => e.requestId === entry.requestId)) return;
    if (this.entries.length >= this.options.entriesMax)
      throw new ParleyUnavailable(
        `no endpoint answered and the client outbox is full (${this.options.entriesMax} commands)`,
        { requestId: entry.requestId },
      );
    this.entries.push(entry);
    this.persist();
    this.drain();
  }

  /** Resolves once every command has left the outbox (sent, or dropped as refused). */
  async drained(): Promise<void> {
    while (this.draining) await this.draining;
  }

  close(): void {
    this.closed = true;
    this.wake?.();
  }

  private drain(): void {
    if (this.draining || this.closed) return;
    this.draining = this.run().finally(() => {
      this.draining = undefined;
    });
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.entries.length > 0 && !this.closed) {
      const entry = this.entries[0];
      try {
        await this.send(entry);
      } catch (error) {
        if (worthAnotherTry(error)) {
          failures += 1;
          await this.sleep(backoffDelayMs(failures, this.backoff, this.random));
          continue;
        }
        this.options.onDropped?.(entry, error as ParleyError);
      }
      failures = 0;
      this.entries.shift();
      this.persist();
    }
  }

  /** A pause that neither keeps the process alive nor outlives close(). */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref();
      const wake = () => done();
      this.wake = wake;
      function done() {
        clearTimeout(timer);
        resolve();
      }
    });
  }

  private persist(): void {
    const file = this.options.file;
    if (!file) return;
    const temporary = `${file}.tmp`;
    writeFileSync(temporary, this.entries.map((e) => `${JSON.stringify(e)}\n`).join(''), {
      flush: true,
    });
    renameSync(temporary, file);
  }
}

function load(file: string): OutboxEntry[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, at) => {
      try {
        return JSON.parse(line) as OutboxEntry;
      } catch {
        throw new Error(`${file}:${at + 1} is not an outbox entry (JSON)`);
      }
    });
}
