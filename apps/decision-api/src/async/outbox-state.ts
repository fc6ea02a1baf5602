import { Command, canonical, entityOf as decidedEntity } from '@parley/decision';
import type { RenderedAnswer } from '../http/problem';

/**
 * A strong write accepted with `Prefer: respond-async`: the command as it will be proposed (the
 * route's type, body and path parameters, already validated), and what is needed to answer it
 * as the synchronous route would (its path parameters and URL).
 */
export interface AcceptedRequest {
  requestId: string;
  type: string;
  command: Record<string, unknown>;
  path: Record<string, string>;
  /** The request's URL: a problem's `instance`. */
  url: string;
  acceptedAt: number;
  /**
   * The agent the submitting key is bound to (agent@<agentId>:key); absent for an unbound
   * agent key or an operator. Only a caller with the same binding (or an operator) reads the
   * request's status.
   */
  agentId?: string;
}

export interface DecidedRequest {
  requestId: string;
  answer: RenderedAnswer;
  decidedAt: number;
  /** The submitter's binding, as on the AcceptedRequest. */
  agentId?: string;
}

/** Who asks for a request's status: the role and binding of their key. */
export interface StatusReader {
  role: string;
  agentId?: string;
}

/**
 * Whether `reader` may see the status of a request submitted with the binding `owner`: an
 * operator sees every request; an agent key only those submitted with the same binding (a key
 * bound to agent a1 those of a1's keys; an unbound agent key those of unbound keys), as an etcd
 * lease or a Consul session is readable by whoever holds the token that made it. Everyone else
 * gets what an unknown id gets (404), so a request id reveals nothing about other agents.
 */
export function mayReadStatus(reader: StatusReader, owner: string | undefined): boolean {
  if (reader.role === 'operator') return true;
  return reader.role === 'agent' && reader.agentId === owner;
}

/** One line of the outbox's journal. */
export type OutboxRecord =
  { op: 'accepted'; request: AcceptedRequest } | { op: 'decided'; decided: DecidedRequest };

export interface OutboxSnapshot {
  pending: AcceptedRequest[];
  decided: DecidedRequest[];
}

export interface OutboxLimits {
  /** Most requests waiting to be decided; more are answered 503. */
  entriesMax: number;
  /** Most bytes (JSON of the commands) waiting to be decided; more are answered 503. */
  bytesMax: number;
  /** Decided requests whose answer is kept for GET /v1/requests/{id}; the oldest is dropped. */
  decidedMax: number;
}

export type Admission =
  | { kind: 'admit' }
  /** The same request again (a client's retry): it is already accepted, or decided. */
  | { kind: 'known' }
  /** The requestId is already used for another command: refused, as the state machine would. */
  | { kind: 'key-reuse' }
  | { kind: 'full'; reason: 'entries' | 'bytes' };

/**
 * The entity a command decides about, as the watch names it (`inventory/<sku>`): buffered
 * commands on one entity are proposed in the order they were accepted.
 */
export function entityOf(command: Record<string, unknown>): string {
  return decidedEntity(command as Command) ?? String(command.type);
}

const bytesOf = (request: AcceptedRequest) => JSON.stringify(request.command).length;

/**
 * What the outbox holds, built from its journal: requests waiting to be decided (in the order
 * accepted) and the answers of decided ones. Applying a record is idempotent (a crash between a
 * snapshot and emptying the journal replays records the snapshot has), and nothing here touches
 * a file or a clock.
 */
export class OutboxState {
  private readonly pending = new Map<string, AcceptedRequest>();
  /**
   * The waiting requests again, queued per entity, the entities in the order their oldest
   * waiting request came: heads() reads one request per entity, never the whole outbox (a
   * thousand requests waiting on one sku would otherwise be scanned for each one decided).
   */
  private readonly byEntity = new Map<string, AcceptedRequest[]>();
  private readonly decided = new Map<string, DecidedRequest>();
  private pendingBytesNow = 0;

  constructor(private readonly limits: OutboxLimits) {}

  get depth(): number {
    return this.pending.size;
  }

  get pendingBytes(): number {
    return this.pendingBytesNow;
  }

  get decidedCount(): number {
    return this.decided.size;
  }

  /** May `request` be accepted? `inFlight` counts requests being written right now. */
  admit(request: AcceptedRequest, inFlight: { entries: number; bytes: number }): Admission {
    const known = this.pending.get(request.requestId);
    if (known) return admitAgain(known, request);
    if (this.decided.has(request.requestId)) return { kind: 'known' };
    if (this.pending.size + inFlight.entries >= this.limits.entriesMax)
      return { kind: 'full', reason: 'entries' };
    if (this.pendingBytesNow + inFlight.bytes + bytesOf(request) > this.limits.bytesMax)
      return { kind: 'full', reason: 'bytes' };
    return { kind: 'admit' };
  }

  apply(record: OutboxRecord): void {
    if (record.op === 'accepted') {
      const { request } = record;
      if (this.pending.has(request.requestId) || this.decided.has(request.requestId)) return;
      this.pending.set(request.requestId, request);
      this.pendingBytesNow += bytesOf(request);
      const entity = entityOf(request.command);
      const queue = this.byEntity.get(entity);
      if (queue) queue.push(request);
      else this.byEntity.set(entity, [request]);
      return;
    }
    const { decided } = record;
    const request = this.pending.get(decided.requestId);
    if (request) {
      this.pending.delete(decided.requestId);
      this.pendingBytesNow -= bytesOf(request);
      const entity = entityOf(request.command);
      const queue = this.byEntity.get(entity)!;
      // The head, as the drainer decides them; anywhere in the queue after a crash's replay.
      queue.splice(queue[0] === request ? 0 : queue.indexOf(request), 1);
      if (queue.length === 0) this.byEntity.delete(entity);
    }
    this.decided.delete(decided.requestId);
    this.decided.set(decided.requestId, decided);
    while (this.decided.size > this.limits.decidedMax)
      this.decided.delete(this.decided.keys().next().value!);
  }

  pendingRequest(requestId: string): AcceptedRequest | undefined {
    return this.pending.get(requestId);
  }

  decidedRequest(requestId: string): DecidedRequest | undefined {
    return this.decided.get(requestId);
  }

  /**
   * The oldest waiting request of each entity, at most `max` of them (entities whose requests
   * have waited longest first): what may be proposed now without overtaking an earlier request
   * on the same entity.
   */
  heads(max: number): AcceptedRequest[] {
    const heads: AcceptedRequest[] = [];
    for (const queue of this.byEntity.values()) {
      if (heads.length >= max) break;
      heads.push(queue[0]);
    }
    return heads;
  }

  snapshot(): OutboxSnapshot {
    return { pending: [...this.pending.values()], decided: [...this.decided.values()] };
  }

  restore(snapshot: OutboxSnapshot): void {
    for (const request of snapshot.pending) this.apply({ op: 'accepted', request });
    for (const decided of snapshot.decided) this.apply({ op: 'decided', decided });
  }
}

/**
 * A request whose requestId is already accepted: the same command again (compared as the state
 * machine compares it, whatever the order of its fields) is a retry, another is a key reuse.
 */
export function admitAgain(known: AcceptedRequest, request: AcceptedRequest): Admission {
  return canonical(known.command) === canonical(request.command)
    ? { kind: 'known' }
    : { kind: 'key-reuse' };
}
