import { assert } from '@parley/common';
import { Message, NodeId } from './types';

/** A ReadIndex request waiting for a quorum of heartbeat acknowledgements (dissertation §6.4). */
export interface ReadIndexStatus {
  readonly request: Message;
  /** The commit index when the request arrived: the read is served once applied to here. */
  readonly index: number;
  readonly acks: Set<NodeId>;
}

/**
 * Pending ReadIndex requests in arrival order. A heartbeat round carries the newest request's
 * context; a quorum of acks for it confirms every request queued before it too, because the
 * leader was still leader when each of them arrived.
 */
export class ReadOnly {
  private readonly pending = new Map<string, ReadIndexStatus>();
  private queue: string[] = [];

  constructor(private readonly maxPending: number) {}

  get size(): number {
    return this.queue.length;
  }

  /** Returns false when the queue is at its bound (the caller drops the request). */
  addRequest(index: number, request: Message): boolean {
    if (this.pending.has(request.context)) return true;
    if (this.queue.length >= this.maxPending) return false;
    this.pending.set(request.context, { index, request, acks: new Set() });
    this.queue.push(request.context);
    return true;
  }

  /** Records that `from` acknowledged the heartbeat carrying `context`; returns the acks. */
  recvAck(from: NodeId, context: string): ReadonlySet<NodeId> | undefined {
    const status = this.pending.get(context);
    if (!status) return undefined;
    status.acks.add(from);
    return status.acks;
  }

  /** Removes and returns every request up to and including `context`. */
  advance(context: string): ReadIndexStatus[] {
    const at = this.queue.indexOf(context);
    if (at < 0) return [];
    const done = this.queue.slice(0, at + 1);
    this.queue = this.queue.slice(at + 1);
    return done.map((ctx) => {
      const status = this.pending.get(ctx);
      assert(status !== undefined, `read-only queue and map disagree on ${ctx}`);
      this.pending.delete(ctx);
      return status;
    });
  }

  lastPendingContext(): string | undefined {
    return this.queue.length > 0 ? this.queue[this.queue.length - 1] : undefined;
  }

  reset(): void {
    this.pending.clear();
    this.queue = [];
  }
}
