import { Injectable } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import { digest } from './api-keys';

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
    const headers = request.headers as Record<string, string | undefined>;
    const key = /^Bearer (.+)$/.exec(headers.authorization ?? '')?.[1];
    const keyDigest = Buffer.isBuffer(known) ? known : key ? digest(key) : undefined;
    if (keyDigest) return `key:${keyDigest.toString('hex', 0, 16)}`;
    return `ip:${String(request.ip)}`;
  }
}
