export interface RequestBatcherOptions<R> {
  /** The most requests one batch carries. */
  batchMax: number;
  /**
   * The most batches awaiting their answers at once. Requests that arrive while that many are
   * out wait and leave together when one returns, so batches grow with the load instead of
   * staying at the few requests one event-loop turn brings. A function is asked at each flush
   * (the bound may depend on where the batches go).
   */
  inFlightMax: number | (() => number);
  /** The most requests waiting to leave; beyond it `submit` refuses at once (back-pressure). */
  queuedMax: number;
  /** The error a refused submit rejects with. */
  overloaded: () => Error;
  /** The answer of a request the reply left out (a broken reply): its outcome is unknown. */
  missingAnswer: R;
}

interface Waiting<T, R> {
  request: T;
  resolve: (answer: R) => void;
  reject: (error: unknown) => void;
}

/**
 * Gathers the requests of concurrent callers into batches, the client half of group commit:
 * whatever arrived during one turn of the event loop leaves together when the turn ends
 * (setImmediate), at most `batchMax` to a batch, and at most `inFlightMax` batches are out at
 * once; what arrives meanwhile leaves when one of them returns (self-clocking, as a disk's group
 * commit). A lone caller waits for nothing but the end of its own turn; under load one signed
 * RPC carries many requests, so signing, framing, socket writes, dispatch and the leader's
 * Ready (or read point) are paid once per batch instead of once per request.
 */
export class RequestBatcher<T, R> {
  private queue: Waiting<T, R>[] = [];
  private flushScheduled = false;
  private inFlight = 0;

  constructor(
    /** Sends one batch; answers one response per request, in order. */
    private readonly sendBatch: (requests: T[]) => Promise<R[]>,
    private readonly options: RequestBatcherOptions<R>,
  ) {}

  get queued(): number {
    return this.queue.length;
  }

  /** Batches sent whose answers have not come back yet. */
  get outstanding(): number {
    return this.inFlight;
  }

  submit(request: T): Promise<R> {
    if (this.queue.length >= this.options.queuedMax)
      return Promise.reject(this.options.overloaded());
    return new Promise((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const bound = this.options.inFlightMax;
    const inFlightMax = typeof bound === 'number' ? bound : bound();
    while (this.queue.length > 0 && this.inFlight < inFlightMax) {
      const batch = this.queue.splice(0, this.options.batchMax);
      this.inFlight += 1;
      // The slot is freed before the callers hear their answers, so what queued behind this
      // batch leaves now rather than after their continuations.
      this.sendBatch(batch.map((waiting) => waiting.request)).then(
        (answers) => {
          this.returned();
          batch.forEach((waiting, i) => waiting.resolve(answers[i] ?? this.options.missingAnswer));
        },
        (error: unknown) => {
          this.returned();
          batch.forEach((waiting) => waiting.reject(error));
        },
      );
    }
  }

  private returned(): void {
    this.inFlight -= 1;
    if (this.queue.length > 0 && !this.flushScheduled) this.flush();
  }
}
