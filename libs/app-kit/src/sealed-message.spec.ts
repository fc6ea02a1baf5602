import { PacketOpener, sealPacket } from './sealed-message';

const SECRET = 'gossip-secret-0123456789';

describe('gossip packet authentication', () => {
  const payload = Uint8Array.of(1, 2, 3, 4);

  it('opens a sealed packet once; the same packet again is a replay', () => {
    const opener = new PacketOpener(SECRET);
    const packet = sealPacket(SECRET, payload, 1_000_000);
    expect(opener.open(packet, 1_000_100)).toEqual({ ok: true, payload: Buffer.from(payload) });
    expect(opener.open(packet, 1_000_200)).toEqual({ ok: false, reason: 'replayed packet' });
  });

  it('refuses another secret, a flipped bit, an old timestamp, a short packet', () => {
    const opener = new PacketOpener(SECRET);
    const reason = (packet: Uint8Array, now = 1_000_000) => {
      const opened = opener.open(packet, now);
      return opened.ok ? 'ok' : opened.reason;
    };
    expect(reason(sealPacket('another-secret-0123456789', payload, 1_000_000))).toBe('bad mac');
    const flipped = sealPacket(SECRET, payload, 1_000_000);
    flipped[10] ^= 1;
    expect(reason(flipped)).toBe('bad mac');
    expect(reason(sealPacket(SECRET, payload, 1_000_000), 1_000_000 + 31_000)).toBe(
      'timestamp outside the allowed clock skew',
    );
    expect(reason(Uint8Array.of(1, 2, 3))).toBe('packet too short');
    expect(reason(Buffer.alloc(64, 7))).toBe('unknown packet version');
  });
});
