/**
 * The replicated state machine the command-log applies committed commands to, in log order,
 * on every replica. Implementations are deterministic: the same commands give the same state
 * and byte-identical snapshots everywhere.
 */
export interface ReplicatedStateMachine {
  /** Applies the command at `index`; returns its JSON-able result. Bad bytes give an error result. */
  apply(index: number, data: Uint8Array): unknown;
  /** The whole state as bytes of a versioned, checksummed format. */
  snapshot(): Uint8Array;
  /**
   * The same bytes in bounded steps: the state is taken as it is at the first step, and the
   * replica's event loop runs between steps. Optional: without it, snapshot() runs at once.
   */
  snapshotSteps?(): Generator<void, Uint8Array, void>;
  /** Replaces the state; throws with a clear message when the bytes are not a valid snapshot. */
  restore(data: Uint8Array): void;
}
