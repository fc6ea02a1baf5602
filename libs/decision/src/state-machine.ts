import { Budgets } from './budgets';
import { Command, Query, validateCommand, validateQuery } from './commands';
import { commandFingerprint } from './command-fingerprint';
import { Inventory } from './inventory';
import { KvStore } from './kv';
import { Proposals } from './proposals';
import { DEFAULT_SESSION_LIMITS, SessionLimits, Sessions } from './sessions';

export { canonical } from './canonical';

/**
 * Settings that change what commands do, so they must be the same on every replica (like the
 * peer list): the idempotency window and its bounds.
 */
export interface StateMachineOptions {
  sessions: SessionLimits;
}

export const DEFAULT_STATE_MACHINE_OPTIONS: StateMachineOptions = {
  sessions: DEFAULT_SESSION_LIMITS,
};

/** A proposal closed by the log's clock reaching its deadline, as `GET /v1/proposals/{id}` shows it. */
export interface DeadlineDecision {
  proposalId: string;
  status: 'decided' | 'expired';
  outcome: string | null;
  tally: Record<string, number>;
}

/**
 * What applying one entry did. `deadlineDecided` (present only when not empty) lists the
 * proposals whose deadline this entry's timestamp passed: they were decided before the command
 * itself ran, at the same index, whatever the command was (a clock entry, a vote, a KV write).
 */
export type ApplyOutcome = {
  result: unknown;
  replayed: boolean;
  deadlineDecided?: DeadlineDecision[];
};

/**
 * The decision state machine: KV, inventory, budgets, proposals and the session table,
 * applied in log order on every replica. Deterministic and pure: the same commands in the same
 * order give the same results and byte-identical snapshots.
 */
export class DecisionStateMachine {
  kv = new KvStore();
  inventory = new Inventory();
  budgets = new Budgets();
  proposals = new Proposals();
  sessions: Sessions;
  /** The newest leader timestamp seen in the log: this replica's notion of "now". */
  logTime = 0;
  /** Highest log index the Kafka mirror has durably published (replicated through the log). */
  mirroredIndex = 0;

  constructor(readonly options: StateMachineOptions = DEFAULT_STATE_MACHINE_OPTIONS) {
    this.sessions = new Sessions(options.sessions);
  }

  /** Applies an untrusted command object (already decoded from the log). */
  applyRaw(index: number, raw: unknown): ApplyOutcome {
    const validated = validateCommand(raw);
    if (!validated.ok)
      return { result: { status: 'invalid', errors: validated.errors }, replayed: false };
    return this.apply(index, validated.value);
  }

  /**
   * `print`: the command's fingerprint when the log entry carried it (the binary form does),
   * which must be commandFingerprint(command); computed here otherwise.
   */
  apply(index: number, command: Command, print?: [number, number]): ApplyOutcome {
    // Time only moves forward, even if a new leader's clock is behind the old one's.
    this.logTime = Math.max(this.logTime, command.ts);
    // First, so that an id is forgotten exactly when the log reaches its time + window.
    this.sessions.evict(this.logTime);
    const closed = this.proposals.expire(this.logTime);
    const outcome = this.applyCommand(index, command, print);
    if (closed.length === 0) return outcome;
    const deadlineDecided = closed.map((id) => this.proposals.get(id) as DeadlineDecision);
    return { ...outcome, deadlineDecided };
  }

  private applyCommand(index: number, command: Command, carried?: [number, number]): ApplyOutcome {
    if (command.type === 'clock')
      return { result: { status: 'ok', ts: this.logTime }, replayed: false };
    if (command.type === 'mirror.cursor') {
      this.mirroredIndex = Math.max(this.mirroredIndex, command.index);
      return { result: { status: 'ok', mirroredIndex: this.mirroredIndex }, replayed: false };
    }
    const print = carried ?? commandFingerprint(command);
    const verdict = this.sessions.judge(command, print, this.logTime);
    if (verdict.kind === 'replay') return { result: verdict.result, replayed: true };
    if (verdict.kind === 'refuse') return { result: verdict.refusal, replayed: false };
    const result = this.execute(index, command);
    this.sessions.record(command, print, index, this.logTime, result);
    return { result, replayed: false };
  }

  private execute(
    index: number,
    c: Exclude<Command, { type: 'clock' } | { type: 'mirror.cursor' }>,
  ): unknown {
    switch (c.type) {
      case 'kv.put':
        return this.kv.put(index, c.key, c.value, c.ifVersion);
      case 'kv.delete':
        return this.kv.delete(index, c.key, c.ifVersion);
      case 'inventory.restock':
        return this.inventory.restock(index, c.sku, c.quantity);
      case 'inventory.reserve':
        return this.inventory.reserve(index, c.sku, c.orderId, c.quantity);
      case 'inventory.release':
        return this.inventory.release(index, c.sku, c.orderId);
      case 'budget.set':
        return this.budgets.set(index, c.campaign, c.limit);
      case 'budget.spend':
        return this.budgets.spend(index, c.campaign, c.bidId, c.amount);
      case 'proposal.create':
        return this.proposals.create(index, this.logTime, c.proposalId, c.options, c.policy);
      case 'proposal.vote':
        return this.proposals.vote(index, c.proposalId, c.agentId, c.option, c.weight);
    }
  }

  /**
   * Answers a read on the current state (the caller chose how fresh it must be):
   * `{found: true, value}`, `{found: false}`, or `{status: 'invalid', errors}`.
   */
  query(raw: unknown): unknown {
    const validated = validateQuery(raw);
    if (!validated.ok) return { status: 'invalid', errors: validated.errors };
    const q: Query = validated.value;
    const found = (value: unknown) =>
      value === undefined ? { found: false } : { found: true, value };
    switch (q.type) {
      case 'kv.get':
        return found(this.kv.get(q.key));
      case 'inventory.get':
        return found(this.inventory.get(q.sku));
      case 'budget.get':
        return found(this.budgets.get(q.campaign));
      case 'proposal.get':
        return found(this.proposals.get(q.proposalId));
    }
  }
}
