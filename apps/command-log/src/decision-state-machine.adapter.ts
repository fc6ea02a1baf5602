import {
  Command,
  CommandFormat,
  DEFAULT_STATE_MACHINE_OPTIONS,
  DecisionEvent,
  DecisionStateMachine,
  StateMachineOptions,
  decodeCommand,
  decisionEvents,
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
  /**
   * The entry apply() handled last, decoded once, with the outcomes it decided: the replica
   * calls onApplied for that entry right after apply() returns (same turn), and the watch
   * ring and the Kafka mirror read it there instead of decoding the entry again.
   */
  lastApplied: { index: number; command: Command; events: DecisionEvent[] } | undefined;
  /**
   * Entries up to this index are applied without their decision events: at a restart, the
   * replayed entries older than the watch ring holds (their events would be computed only to
   * be dropped, a tenth of the replay's time). Their outcome is still applied and recorded.
   */
  eventsSkippedThrough = 0;

  constructor(
    private readonly options: StateMachineOptions = DEFAULT_STATE_MACHINE_OPTIONS,
    /** How the commands this replica proposes are written (it reads every format). */
    private readonly format: CommandFormat = 'binary',
  ) {
    this.sm = new DecisionStateMachine(options);
  }

  /** Validates and encodes a command for the log; the leader has stamped `ts` already. */
  encodeCommand(command: Record<string, unknown>): { bytes: Uint8Array } | { error: string } {
    const validated = validateCommand(command);
    if (!validated.ok) return { error: validated.errors.join('; ') };
    return { bytes: encodeCommand(validated.value, this.format) };
  }

  /** Encodes one of the log's own commands (clock ticks, mirror cursors). */
  encodeOwnCommand(command: Command): Uint8Array {
    return encodeCommand(command, this.format);
  }

  /** Applies a committed entry: `{result, replayed}`; a malformed entry gives an error result. */
  apply(index: number, data: Uint8Array): unknown {
    const decoded = decodeCommand(data);
    this.lastApplied = undefined;
    if (!decoded.ok)
      return { result: { status: 'invalid', errors: [decoded.error] }, replayed: false };
    const outcome = this.sm.apply(index, decoded.command, decoded.print);
    const events =
      index > this.eventsSkippedThrough ? decisionEvents(index, decoded.command, outcome) : [];
    this.lastApplied = { index, command: decoded.command, events };
    return outcome;
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
