import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Authentication of the internal microservice API (decision-api → command-log, over Nest TCP or
 * NATS). Each request carries `auth = { ts, nonce, mac }`, where mac is HMAC-SHA256 under the
 * shared RPC secret of the pattern, ts, nonce and the JSON of the body. The server rejects a
 * missing or wrong mac, a timestamp outside the skew window, and a nonce it has already seen
 * within that window (replay); the nonce memory is bounded.
 */
export interface RpcAuth {
  ts: number;
  nonce: string;
  mac: string;
}

export const RPC_AUTH_SKEW_MS = 30_000;
const NONCES_REMEMBERED_MAX = 200_000;

function macOf(secret: string, pattern: string, ts: number, nonce: string, body: unknown): Buffer {
  return createHmac('sha256', secret)
    .update(`${pattern}\n${ts}\n${nonce}\n`)
    .update(JSON.stringify(body) ?? 'undefined')
    .digest();
}

/** Returns the body with an `auth` field added: what a client sends for `pattern`. */
export function signRpc<T extends object>(
  secret: string,
  pattern: string,
  body: T,
  now = Date.now(),
): T & { auth: RpcAuth } {
  const nonce = randomBytes(16).toString('hex');
  const mac = macOf(secret, pattern, now, nonce, body).toString('hex');
  return { ...body, auth: { ts: now, nonce, mac } };
}

export type RpcAuthVerdict =
  { ok: true; body: Record<string, unknown> } | { ok: false; reason: string };

/** Checks signed requests; one instance per server so replayed nonces are caught. */
export class RpcVerifier {
  /** nonce → timestamp, in insertion order, so the oldest go first. */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly secret: string,
    private readonly skewMs = RPC_AUTH_SKEW_MS,
  ) {}

  verify(pattern: string, payload: unknown, now = Date.now()): RpcAuthVerdict {
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload))
      return { ok: false, reason: 'request body must be an object' };
    const { auth, ...body } = payload as Record<string, unknown>;
    if (typeof auth !== 'object' || auth === null) return { ok: false, reason: 'missing auth' };
    const { ts, nonce, mac } = auth as Partial<RpcAuth>;
    if (
      typeof ts !== 'number' ||
      !Number.isSafeInteger(ts) ||
      typeof nonce !== 'string' ||
      !/^[0-9a-f]{32}$/.test(nonce) ||
      typeof mac !== 'string' ||
      !/^[0-9a-f]{64}$/.test(mac)
    )
      return { ok: false, reason: 'malformed auth' };
    if (Math.abs(now - ts) > this.skewMs)
      return { ok: false, reason: 'auth timestamp outside the allowed clock skew' };
    const expected = macOf(this.secret, pattern, ts, nonce, body);
    if (!timingSafeEqual(expected, Buffer.from(mac, 'hex')))
      return { ok: false, reason: 'bad mac' };
    if (this.seen.has(nonce)) return { ok: false, reason: 'replayed request' };
    this.remember(nonce, now);
    return { ok: true, body };
  }

  private remember(nonce: string, now: number): void {
    for (const [oldNonce, seenAt] of this.seen) {
      if (now - seenAt <= this.skewMs && this.seen.size < NONCES_REMEMBERED_MAX) break;
      this.seen.delete(oldNonce);
    }
    this.seen.set(nonce, now);
  }
}
