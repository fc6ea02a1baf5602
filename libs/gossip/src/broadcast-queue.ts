import { MemberId, Update } from './types';

interface Queued {
  update: Update;
  transmits: number;
  /** False once a newer update about the same member replaced this one (lazy deletion). */
  live: boolean;
}

/**
 * Updates waiting to be piggybacked, one per member (a newer update about a member replaces
 * the older one, as memberlist's TransmitLimitedQueue does). The least-sent go first, the
 * newest first among equals, so a fresh refutation overtakes old news; each update is sent up
 * to the retransmit limit, then dropped. Kept as one stack per transmit count, so taking k
 * updates costs O(k) however long the queue. Bounded: past `capacity` the most-sent go.
 */
export class BroadcastQueue {
  private readonly byMember = new Map<MemberId, Queued>();
  /** byTransmits[t]: entries sent t times, newest at the end. May hold replaced entries. */
  private readonly byTransmits: Queued[][] = [];
  /** Entries in byTransmits, replaced ones included; compacted when mostly garbage. */
  private stored = 0;
  dropped = 0;

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.byMember.size;
  }

  enqueue(update: Update): void {
    const previous = this.byMember.get(update.id);
    if (previous) previous.live = false;
    const entry: Queued = { update, transmits: 0, live: true };
    this.byMember.set(update.id, entry);
    this.bucket(0).push(entry);
    this.stored += 1;
    if (this.byMember.size > this.capacity) this.dropMostSent();
    if (this.stored > 4 * this.byMember.size + 64) this.compact();
  }

  /** Up to `count` updates for one message; each counts as one more transmission. */
  take(count: number, transmitLimit: number): Update[] {
    const out: Update[] = [];
    const sentAgain: Queued[] = [];
    for (let t = 0; t < this.byTransmits.length && out.length < count; t += 1) {
      const stack = this.byTransmits[t];
      while (stack.length > 0 && out.length < count) {
        const entry = stack.pop()!;
        this.stored -= 1;
        if (!entry.live) continue;
        out.push(entry.update);
        entry.transmits += 1;
        if (entry.transmits >= transmitLimit) this.remove(entry);
        else sentAgain.push(entry);
      }
    }
    // Re-filed after the loop, so no update goes twice into one message.
    for (let i = sentAgain.length - 1; i >= 0; i -= 1)
      this.bucket(sentAgain[i].transmits).push(sentAgain[i]);
    this.stored += sentAgain.length;
    return out;
  }

  /** The pending update about a member, if any. */
  pending(id: MemberId): Update | undefined {
    return this.byMember.get(id)?.update;
  }

  private bucket(transmits: number): Queued[] {
    while (this.byTransmits.length <= transmits) this.byTransmits.push([]);
    return this.byTransmits[transmits];
  }

  private remove(entry: Queued): void {
    entry.live = false;
    if (this.byMember.get(entry.update.id) === entry) this.byMember.delete(entry.update.id);
  }

  private compact(): void {
    this.stored = 0;
    for (let t = 0; t < this.byTransmits.length; t += 1) {
      this.byTransmits[t] = this.byTransmits[t].filter((entry) => entry.live);
      this.stored += this.byTransmits[t].length;
    }
  }

  private dropMostSent(): void {
    for (let t = this.byTransmits.length - 1; t >= 0; t -= 1) {
      const stack = this.byTransmits[t];
      while (stack.length > 0) {
        const entry = stack.shift()!;
        this.stored -= 1;
        if (!entry.live) continue;
        this.remove(entry);
        this.dropped += 1;
        return;
      }
    }
  }
}
