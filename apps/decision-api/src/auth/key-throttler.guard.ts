import { Injectable } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import { createHash } from 'node:crypto';

/**
 * Rate limiting per API key (429 past PARLEY_RATE_LIMIT_PER_SECOND), with @nestjs/throttler.
 * The tracker is a digest of the presented key, so the key itself is never stored; requests
 * without one are tracked by address (and refused by the API key guard anyway).
 */
@Injectable()
export class KeyThrottlerGuard extends ThrottlerGuard {
  protected override async getTracker(request: Record<string, unknown>): Promise<string> {
    // The API key guard ran first and left the key's digest; hash here only when it did not.
    const known = request.apiKeyDigest;
    if (Buffer.isBuffer(known)) return `key:${known.toString('hex', 0, 16)}`;
    const headers = request.headers as Record<string, string | undefined>;
    const key = /^Bearer (.+)$/.exec(headers.authorization ?? '')?.[1];
    if (key) return `key:${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;
    return `ip:${String(request.ip)}`;
  }
}
