import { assert } from '@parley/common';

/**
 * The append messages in flight to one follower, as (last index, bytes) pairs in send order.
 * Bounded by count and, optionally, bytes: when full, the leader stops sending until acks free
 * room (flow control; the bound comes from the configuration).
 */
export class Inflights {
  private readonly indexes: number[] = [];
  private readonly sizes: number[] = [];
  private head = 0;
  private bytesInFlight = 0;

  constructor(
    private readonly maxCount: number,
    private readonly maxBytes: number,
  ) {
    assert(maxCount >= 1, 'inflights need room for one message');
  }

  get count(): number {
    return this.indexes.length - this.head;
  }

  get bytes(): number {
    return this.bytesInFlight;
  }

  add(lastIndex: number, bytes: number): void {
    assert(!this.full(), 'add to full inflights');
    const previous = this.count > 0 ? this.indexes[this.indexes.length - 1] : -1;
    assert(lastIndex > previous, `inflight index ${lastIndex} not after ${previous}`);
    this.indexes.push(lastIndex);
    this.sizes.push(bytes);
    this.bytesInFlight += bytes;
    assert(this.count <= this.maxCount, `inflights hold ${this.count} > ${this.maxCount}`);
  }

  /** Frees every message whose last index is ≤ `index` (the follower acknowledged it). */
  freeLE(index: number): void {
    while (this.head < this.indexes.length && this.indexes[this.head] <= index) {
      this.bytesInFlight -= this.sizes[this.head];
      this.head += 1;
    }
    assert(this.bytesInFlight >= 0, `inflight bytes went negative: ${this.bytesInFlight}`);
    // Compact the backing arrays once half of them is dead, keeping amortised O(1).
    if (this.head > 64 && this.head * 2 > this.indexes.length) {
      this.indexes.splice(0, this.head);
      this.sizes.splice(0, this.head);
      this.head = 0;
    }
  }

  /** Frees the oldest message (its ack is presumed lost). */
  freeFirst(): void {
    if (this.count > 0) this.freeLE(this.indexes[this.head]);
  }

  full(): boolean {
    return (
      this.count >= this.maxCount || (this.maxBytes > 0 && this.bytesInFlight >= this.maxBytes)
    );
  }

  reset(): void {
    this.indexes.length = 0;
    this.sizes.length = 0;
    this.head = 0;
    this.bytesInFlight = 0;
  }
}
