import { writeSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

/** How long one write done on the event loop may take before writes go to the thread pool. */
const INLINE_WRITE_MAX_MS = 1;
/** After a slower write, how long writes go through the thread pool before one is tried inline. */
const INLINE_PAUSE_MS = 1_000;
/** Larger batches always go through the thread pool: their copy and write take longer. */
const INLINE_BYTES_MAX = 64 * 1024;

export interface InlineWriteOptions {
  /** 0: every write through the thread pool. */
  writeMaxMs: number;
  pauseMs: number;
  bytesMax: number;
  /** Milliseconds on a monotonic clock. */
  now: () => number;
}

/**
 * Decides whether a durable (O_DSYNC) append is written on the event loop or through libuv's
 * thread pool. A write through the pool wakes a worker thread and then the event loop again, two
 * wake-ups that cost 50-300 µs each on a busy VM, more than a small write to a fast disk takes;
 * a write on the event loop costs none but holds the whole process for as long as the disk
 * takes. So small writes go inline only while the disk answers fast: one write slower than
 * `writeMaxMs` sends the writes of the next `pauseMs` through the pool, after which one is tried
 * inline again. A disk that stalls costs the event loop at most one slow write per `pauseMs`,
 * as a garbage collection would, and never a run of them.
 */
export class InlineWrites {
  private readonly options: InlineWriteOptions;
  private pooledUntil = -Infinity;
  inline = 0;
  pooled = 0;

  constructor(options: Partial<InlineWriteOptions> = {}) {
    this.options = {
      writeMaxMs: INLINE_WRITE_MAX_MS,
      pauseMs: INLINE_PAUSE_MS,
      bytesMax: INLINE_BYTES_MAX,
      now: () => performance.now(),
      ...options,
    };
  }

  /**
   * Appends `bytes` to `file` (opened with O_APPEND, and O_DSYNC when durable): inline or
   * through the thread pool, as chosen; resolves once written.
   */
  async write(file: FileHandle, bytes: Uint8Array): Promise<void> {
    if (!this.choose(bytes.length)) {
      await file.write(bytes);
      return;
    }
    const started = this.options.now();
    for (let written = 0; written < bytes.length;)
      written += writeSync(file.fd, bytes, written, bytes.length - written);
    this.took(this.options.now() - started);
  }

  /** The policy a PARLEY_INLINE_WRITE_MAX_US setting asks for (0: never inline). */
  static withLimitUs(writeMaxUs: number): InlineWrites {
    return new InlineWrites({ writeMaxMs: writeMaxUs / 1_000 });
  }

  /** Whether a write of `bytes` should be done inline now (counted either way). */
  choose(bytes: number): boolean {
    const inline =
      this.options.writeMaxMs > 0 &&
      bytes <= this.options.bytesMax &&
      this.options.now() >= this.pooledUntil;
    if (inline) this.inline += 1;
    else this.pooled += 1;
    return inline;
  }

  /** How long an inline write took; a slow one sends writes to the pool for a while. */
  took(ms: number): void {
    if (ms > this.options.writeMaxMs) this.pooledUntil = this.options.now() + this.options.pauseMs;
  }
}
