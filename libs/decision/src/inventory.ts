/**
 * Stock per SKU. Invariants, checked on every change: available ≥ 0, and reserved equals the
 * sum of live reservations; an order id holds at most one reservation per SKU.
 */
import { assert } from '@parley/common';

export interface Sku {
  available: number;
  reserved: number;
  reservations: Map<string, number>;
}

export type ReserveResult =
  | { status: 'accepted'; sku: string; available: number; reserved: number; index: number }
  | {
      status: 'rejected';
      reason: 'out-of-stock' | 'unknown-sku' | 'order-exists';
      sku: string;
      available: number;
      index: number;
    };

export type ReleaseResult =
  | { status: 'released'; sku: string; available: number; reserved: number; index: number }
  | { status: 'not-found'; sku: string };

export class Inventory {
  skus = new Map<string, Sku>();

  restock(index: number, sku: string, quantity: number) {
    const entry = this.skus.get(sku) ?? {
      available: 0,
      reserved: 0,
      reservations: new Map<string, number>(),
    };
    entry.available += quantity;
    this.skus.set(sku, entry);
    return {
      status: 'ok' as const,
      sku,
      available: entry.available,
      reserved: entry.reserved,
      index,
    };
  }

  reserve(index: number, sku: string, orderId: string, quantity: number): ReserveResult {
    const entry = this.skus.get(sku);
    if (!entry) return { status: 'rejected', reason: 'unknown-sku', sku, available: 0, index };
    if (entry.reservations.has(orderId))
      return { status: 'rejected', reason: 'order-exists', sku, available: entry.available, index };
    if (entry.available < quantity)
      return { status: 'rejected', reason: 'out-of-stock', sku, available: entry.available, index };
    entry.available -= quantity;
    entry.reserved += quantity;
    entry.reservations.set(orderId, quantity);
    assert(entry.available >= 0, `${sku} oversold`);
    return { status: 'accepted', sku, available: entry.available, reserved: entry.reserved, index };
  }

  release(index: number, sku: string, orderId: string): ReleaseResult {
    const entry = this.skus.get(sku);
    const quantity = entry?.reservations.get(orderId);
    if (!entry || quantity === undefined) return { status: 'not-found', sku };
    entry.reservations.delete(orderId);
    entry.available += quantity;
    entry.reserved -= quantity;
    assert(entry.reserved >= 0, `${sku} reserved below zero`);
    return { status: 'released', sku, available: entry.available, reserved: entry.reserved, index };
  }

  get(sku: string): { sku: string; available: number; reserved: number } | undefined {
    const entry = this.skus.get(sku);
    return entry ? { sku, available: entry.available, reserved: entry.reserved } : undefined;
  }
}
