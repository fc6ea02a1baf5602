import { ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import { digest } from './api-keys';

/**
 * Rate limiting per API key (429 past PARLEY_RATE_LIMIT_PER_SECOND), with @nestjs/throttler.
 * The tracker is a digest of the presented key, so the key itself is never stored; requests
 * without one are tracked by address (and refused by the API key guard anyway). The counts
 * live in this process (SlidingWindowStorage): every decision-api process has its own budget
 * per key, and sharing none keeps a 429 decision off the network.
 */
@Injectable()
export class KeyThrottlerGuard extends ThrottlerGuard {
  protected override async getTracker(request: Record<string, unknown>): Promise<string> {
    // The API key guard ran first and left the key's digest; hash here only when it did not.
    const known = request.apiKeyDigest;
    const headers = request.headers as Record<string, string | undefined>;
    const key = /^Bearer (.+)$/.exec(headers.authorization ?? '')?.[1];
    const keyDigest = Buffer.isBuffer(known) ? known : key ? digest(key) : undefined;
    if (keyDigest) return `key:${keyDigest.toString('hex', 0, 16)}`;
    return `ip:${String(request.ip)}`;
  }

  /**
   * One budget per key across all routes, as PARLEY_RATE_LIMIT_PER_SECOND promises (the library
   * keys by route too, so a client got the limit once per route). The tracker is already a
   * digest or an address, so it is used as it is instead of being hashed again.
   */
  protected override generateKey(
    _context: ExecutionContext,
    tracker: string,
    name: string,
  ): string {
    return `${name}:${tracker}`;
  }
}
