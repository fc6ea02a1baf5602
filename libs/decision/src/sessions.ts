/**
 * The client session table (Raft dissertation §6.3): each requestId is applied at most once,
 * and a retry gets the first result back. Retention is bounded by count and by log time; an
 * entry evicted before its client retried lets that retry apply again, which is why clients
 * retry within the retention time. Entries are kept in apply order, so eviction is the same
 * on every replica.
 */
export interface Session {
  fingerprint: string;
  result: unknown;
  index: number;
  ts: number;
}

/** Consumed slots at the front of the order kept before it is compacted. */
const CONSUMED_SLOTS_MAX = 4_096;

export class Sessions {
  private readonly byId = new Map<string, Session>();
  /**
   * requestIds in apply order; eviction consumes from `head`. Walking the Map itself from its
   * start after deleting its oldest entries visits every deleted slot again until V8 rehashes
   * the table, which made eviction a third of a WAL replay's time.
   */
  private order: string[] = [];
  private head = 0;

  constructor(
    readonly maxSessions: number,
    readonly ttlMs: number,
  ) {}

  /** Every live session, oldest first (for snapshots and tests). */
  get entries(): ReadonlyMap<string, Session> {
    return this.byId;
  }

  lookup(requestId: string): Session | undefined {
    return this.byId.get(requestId);
  }

  record(requestId: string, session: Session): void {
    this.restore(requestId, session);
    this.evict(session.ts);
  }

  /** Puts back one session from a snapshot, in the snapshot's (apply) order. */
  restore(requestId: string, session: Session): void {
    this.byId.set(requestId, session);
    this.order.push(requestId);
  }

  evict(now: number): void {
    while (this.head < this.order.length) {
      const id = this.order[this.head];
      const session = this.byId.get(id)!;
      if (this.byId.size <= this.maxSessions && session.ts >= now - this.ttlMs) break;
      this.byId.delete(id);
      this.head += 1;
    }
    if (this.head > CONSUMED_SLOTS_MAX && this.head * 2 > this.order.length) {
      this.order = this.order.slice(this.head);
      this.head = 0;
    }
  }
}
