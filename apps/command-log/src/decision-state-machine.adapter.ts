import {
  Command,
  DEFAULT_STATE_MACHINE_OPTIONS,
  DecisionStateMachine,
  StateMachineOptions,
  decodeCommand,
  decodeSnapshot,
  encodeCommand,
  encodeSnapshot,
  snapshotSteps,
  validateCommand,
} from '@parley/decision';
import type { ReplicatedStateMachine } from '@parley/replica';

/** Adapts the decision state machine (libs/decision) to the replica's port. */
export class DecisionStateMachineAdapter implements ReplicatedStateMachine {
  private sm: DecisionStateMachine;
  /** The entry applied last, decoded: the Kafka mirror takes it instead of decoding again. */
  private lastApplied: { index: number; command: Command } | undefined;

  constructor(private readonly options: StateMachineOptions = DEFAULT_STATE_MACHINE_OPTIONS) {
    this.sm = new DecisionStateMachine(options);
  }

  /** Validates and encodes a command for the log; the leader has stamped `ts` already. */
  encodeCommand(command: Record<string, unknown>): { bytes: Uint8Array } | { error: string } {
    const validated = validateCommand(command);
    if (!validated.ok) return { error: validated.errors.join('; ') };
    return { bytes: encodeCommand(validated.value) };
  }

  /** Applies a committed entry: `{result, replayed}`; a malformed entry gives an error result. */
  apply(index: number, data: Uint8Array): unknown {
    const decoded = decodeCommand(data);
    if (!decoded.ok) {
      this.lastApplied = undefined;
      return { result: { status: 'invalid', errors: [decoded.error] }, replayed: false };
    }
    this.lastApplied = { index, command: decoded.command };
    return this.sm.apply(index, decoded.command);
  }

  /**
   * The command of entry `index` as apply() decoded it, when it was the last one applied (the
   * replica reports each entry right after applying it); undefined otherwise.
   */
  appliedCommand(index: number): Command | undefined {
    return this.lastApplied?.index === index ? this.lastApplied.command : undefined;
  }

  /** The Kafka mirror's cursor as replicated through the log. */
  mirroredIndex(): number {
    return this.sm.mirroredIndex;
  }

  query(query: Record<string, unknown>): unknown {
    return this.sm.query(query);
  }

  snapshot(): Uint8Array {
    return encodeSnapshot(this.sm);
  }

  snapshotSteps(): Generator<void, Uint8Array, void> {
    return snapshotSteps(this.sm);
  }

  restore(data: Uint8Array): void {
    const decoded = decodeSnapshot(data, this.options);
    if (!decoded.ok) throw new Error(`snapshot refused: ${decoded.error}`);
    this.sm = decoded.sm;
  }
}
