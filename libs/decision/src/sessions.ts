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

export class Sessions {
  entries = new Map<string, Session>();

  constructor(
    readonly maxSessions: number,
    readonly ttlMs: number,
  ) {}

  lookup(requestId: string): Session | undefined {
    return this.entries.get(requestId);
  }

  record(requestId: string, session: Session): void {
    this.entries.set(requestId, session);
    this.evict(session.ts);
  }

  evict(now: number): void {
    for (const [id, session] of this.entries) {
      if (this.entries.size > this.maxSessions || session.ts < now - this.ttlMs)
        this.entries.delete(id);
      else break;
    }
  }
}
