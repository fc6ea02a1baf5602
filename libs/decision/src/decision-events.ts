import { Command } from './commands';
import { ApplyOutcome, DeadlineDecision } from './state-machine';

/**
 * One outcome of a strong command, in the one shape the REST answers, the watch stream and the
 * Kafka `decisions` topic share: `result` is exactly the body the synchronous REST route
 * answers (a problem body for the routes that answer 404/409), so an agent that submitted a
 * command and an agent watching for it read the same thing.
 */
export interface DecisionEvent {
  /** The Raft index of the entry that decided it (several events may share one index). */
  index: number;
  /** The command's type (`inventory.reserve`), or `proposal.decided` for a deadline. */
  type: string;
  /** What it is about: `kv/<key>`, `inventory/<sku>`, `budgets/<campaign>`, `proposals/<id>`. */
  entity: string;
  requestId?: string;
  result: Record<string, unknown>;
  decidedBy: 'command' | 'deadline';
}

/** The event type of a proposal closed by its deadline (no command of its own decided it). */
export const DEADLINE_DECISION_TYPE = 'proposal.decided';

/** The HTTP status and body the synchronous REST route gives for an applied command. */
export interface RestAnswer {
  status: number;
  body: Record<string, unknown>;
}

type Result = Record<string, unknown>;
type Decided = Exclude<Command, { type: 'clock' } | { type: 'mirror.cursor' }>;

/**
 * The entity a command is about, as the watch's `prefix` filter and the `decisions` key name
 * it; undefined for the log's own bookkeeping (clock, mirror cursor), which decides nothing.
 */
export function entityOf(command: Command): string | undefined {
  switch (command.type) {
    case 'kv.put':
    case 'kv.delete':
      return `kv/${command.key}`;
    case 'inventory.restock':
    case 'inventory.reserve':
    case 'inventory.release':
      return `inventory/${command.sku}`;
    case 'budget.set':
    case 'budget.spend':
      return `budgets/${command.campaign}`;
    case 'proposal.create':
    case 'proposal.vote':
      return `proposals/${command.proposalId}`;
    case 'clock':
    case 'mirror.cursor':
      return undefined;
  }
}

/** An RFC 9457 body, as the REST side answers a refusal (without `instance`, the request URL). */
function problem(status: 404 | 409, detail: string): RestAnswer {
  const title = status === 404 ? 'Not Found' : 'Conflict';
  return { status, body: { type: 'about:blank', title, status, detail } };
}

const ok = (body: Result, status = 200): RestAnswer => ({ status, body });
/** `reason` only when the state machine gave one, as the REST bodies have always had it. */
const reasonOf = (r: Result) => (r.reason ? { reason: r.reason } : {});

/**
 * The REST answer to a command the state machine decided (SPEC §3), from the command (with its
 * path parameters) and the state machine's result. The controllers answer with it and the
 * events carry its body, so the two cannot drift apart.
 */
export function restAnswer(command: Decided, r: Result): RestAnswer {
  switch (command.type) {
    case 'kv.put':
      if (r.status === 'conflict')
        return problem(409, `key ${command.key} is at version ${String(r.currentVersion)}`);
      return ok({ key: r.key, value: r.value, version: r.version, index: r.index });
    case 'kv.delete':
      if (r.status === 'not-found') return problem(404, `no key ${command.key}`);
      if (r.status === 'conflict')
        return problem(409, `key ${command.key} is at version ${String(r.currentVersion)}`);
      return ok({ key: command.key, deleted: true, index: r.index });
    case 'inventory.restock':
      return ok({ sku: command.sku, available: r.available, reserved: r.reserved, index: r.index });
    case 'inventory.reserve':
      return ok({ status: r.status, ...reasonOf(r), available: r.available, index: r.index });
    case 'inventory.release':
      if (r.status === 'not-found')
        return problem(404, `no reservation ${command.orderId} on ${command.sku}`);
      return ok({ status: r.status, available: r.available });
    case 'budget.set':
      return ok({
        campaign: command.campaign,
        limit: r.limit,
        spent: r.spent,
        remaining: r.remaining,
      });
    case 'budget.spend':
      return ok({ status: r.status, ...reasonOf(r), remaining: r.remaining, index: r.index });
    case 'proposal.create':
      if (r.status === 'conflict') return problem(409, `proposal ${String(r.proposalId)} exists`);
      return ok({ proposalId: r.proposalId, status: r.status }, 201);
    case 'proposal.vote':
      return ok({
        counted: r.counted,
        status: r.status,
        ...(r.outcome !== undefined ? { outcome: r.outcome } : {}),
        ...reasonOf(r),
      });
  }
}

/**
 * Did the state machine decide this command? A replay repeats an outcome already decided at an
 * earlier index; a refusal by the session table (key reused, window passed, table full) and a
 * malformed entry decided nothing.
 */
function decidedSomething(outcome: ApplyOutcome): boolean {
  const status = (outcome.result as { status?: unknown } | null)?.status;
  return !outcome.replayed && status !== 'refused' && status !== 'invalid';
}

function deadlineEvent(index: number, decision: DeadlineDecision): DecisionEvent {
  return {
    index,
    type: DEADLINE_DECISION_TYPE,
    entity: `proposals/${decision.proposalId}`,
    result: { ...decision },
    decidedBy: 'deadline',
  };
}

/**
 * The outcomes one applied entry decided, in the order the state machine took them: first the
 * proposals its timestamp closed at their deadline (in id order), then the command's own
 * outcome. Every replica computes the same list at the same index, so any replica can serve it.
 */
export function decisionEvents(
  index: number,
  command: Command,
  outcome: ApplyOutcome,
): DecisionEvent[] {
  const events = (outcome.deadlineDecided ?? []).map((d) => deadlineEvent(index, d));
  const entity = entityOf(command);
  if (entity === undefined || !('requestId' in command) || !decidedSomething(outcome))
    return events;
  events.push({
    index,
    type: command.type,
    entity,
    requestId: command.requestId,
    result: restAnswer(command, outcome.result as Result).body,
    decidedBy: 'command',
  });
  return events;
}
