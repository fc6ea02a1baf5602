import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Authentication of gossip packets and crdt deltas (UDP, TCP, NATS): [version u8][sent-at ms u64][payload][mac 32],
 * mac = HMAC-SHA256(cluster secret, everything before it). A packet older or newer than the
 * skew window is refused, and so is one whose mac was already seen inside the window (replay);
 * the memory of seen macs is bounded.
 */
const VERSION = 1;
const HEADER_BYTES = 9;
const MAC_BYTES = 32;
export const PACKET_SKEW_MS = 30_000;
const SEEN_MACS_MAX = 100_000;

export function sealPacket(secret: string, payload: Uint8Array, nowMs: number): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt8(VERSION, 0);
  header.writeBigUInt64BE(BigInt(nowMs), 1);
  const mac = createHmac('sha256', secret).update(header).update(payload).digest();
  return Buffer.concat([header, payload, mac]);
}

export class PacketOpener {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly secret: string,
    private readonly skewMs = PACKET_SKEW_MS,
  ) {}

  open(
    packet: Uint8Array,
    nowMs: number,
  ): { ok: true; payload: Uint8Array } | { ok: false; reason: string } {
    if (packet.length < HEADER_BYTES + MAC_BYTES) return { ok: false, reason: 'packet too short' };
    const bytes = Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength);
    if (bytes.readUInt8(0) !== VERSION) return { ok: false, reason: 'unknown packet version' };
    const body = bytes.subarray(0, bytes.length - MAC_BYTES);
    const mac = bytes.subarray(bytes.length - MAC_BYTES);
    const expected = createHmac('sha256', this.secret).update(body).digest();
    if (!timingSafeEqual(mac, expected)) return { ok: false, reason: 'bad mac' };
    const sentAt = Number(bytes.readBigUInt64BE(1));
    if (Math.abs(nowMs - sentAt) > this.skewMs)
      return { ok: false, reason: 'timestamp outside the allowed clock skew' };
    const key = mac.toString('base64');
    if (this.seen.has(key)) return { ok: false, reason: 'replayed packet' };
    this.remember(key, nowMs);
    return { ok: true, payload: body.subarray(HEADER_BYTES) };
  }

  private remember(key: string, nowMs: number): void {
    for (const [oldKey, seenAt] of this.seen) {
      if (nowMs - seenAt <= this.skewMs && this.seen.size < SEEN_MACS_MAX) break;
      this.seen.delete(oldKey);
    }
    this.seen.set(key, nowMs);
  }
}
