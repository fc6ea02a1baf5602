/**
 * Time as the replica driver sees it. The driver never reads the wall clock or starts a timer
 * itself: production wires the process clock, the simulator a virtual one whose callbacks run
 * from its event queue, so one seed gives one schedule.
 */
export interface Clock {
  /** Milliseconds on this replica's clock (only differences are used). */
  now(): number;
  /** Calls `run` every `ms` until the returned cancel is called. */
  every(ms: number, run: () => void): () => void;
  /** Calls `run` once after `ms`, unless cancelled first; never keeps a process alive. */
  after(ms: number, run: () => void): () => void;
  /** Calls `run` on a later turn, after the work (and promise callbacks) of this one. */
  defer(run: () => void): void;
}

/** A promise that resolves on a later turn of `clock`. */
export function nextTurn(clock: Clock): Promise<void> {
  return new Promise((resolve) => clock.defer(resolve));
}
