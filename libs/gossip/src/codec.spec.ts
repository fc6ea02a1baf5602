import { decodeGossipMessage, encodeGossipMessage } from './codec';
import { GossipMessage, MemberState } from './types';

const META = { role: 'agent', appAddress: '10.0.0.7:8080', version: '1.2.3' } as const;

const samples: GossipMessage[] = [
  {
    type: 'ping',
    seq: 42,
    from: 'n1',
    target: 'n2',
    updates: [
      { kind: 'alive', id: 'n3', incarnation: 7, address: '127.0.0.1:7946', meta: META },
      { kind: 'suspect', id: 'n4', incarnation: 2 ** 40, from: 'n1' },
      { kind: 'dead', id: 'n5', incarnation: 0, from: 'n5' },
    ],
  },
  { type: 'ping-req', seq: 1, from: 'n1', target: 'n9', updates: [] },
  { type: 'ack', seq: 9, from: 'n2', updates: [] },
  { type: 'nack', seq: 9, from: 'n2' },
  { type: 'gossip', from: 'n2', updates: [{ kind: 'dead', id: 'x', incarnation: 3, from: 'n2' }] },
  {
    type: 'push-pull',
    from: 'n1',
    reply: true,
    members: [
      { id: 'n1', address: 'a:1', meta: META, incarnation: 1, state: MemberState.Alive },
      { id: 'n2', address: 'b:2', meta: META, incarnation: 4, state: MemberState.Left },
    ],
  },
];

/** A seeded generator for the fuzz cases, so a failure replays. */
function rng(seed: number) {
  return () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
}

describe('gossip codec', () => {
  it.each(samples.map((m) => [m.type, m]))('round-trips a %s', (_type, message) => {
    expect(decodeGossipMessage(encodeGossipMessage(message as GossipMessage))).toEqual({
      ok: true,
      message,
    });
  });

  it('names what is wrong with a bad message', () => {
    const bytes = encodeGossipMessage(samples[0]);
    expect(decodeGossipMessage(bytes.subarray(0, 10))).toMatchObject({ ok: false });
    expect(decodeGossipMessage(Uint8Array.of(9, 1))).toEqual({
      ok: false,
      error: 'unsupported gossip codec version 9',
    });
    expect(decodeGossipMessage(Uint8Array.of(1, 77))).toEqual({
      ok: false,
      error: 'unknown message type 77',
    });
    const trailing = new Uint8Array([...encodeGossipMessage(samples[3]), 0]);
    expect(decodeGossipMessage(trailing)).toEqual({
      ok: false,
      error: '1 trailing bytes after gossip message',
    });
  });

  it('fuzz (seed 7): random bytes, truncations and bit flips never throw', () => {
    const random = rng(7);
    const encoded = samples.map(encodeGossipMessage);
    for (let i = 0; i < 20_000; i += 1) {
      let bytes: Uint8Array;
      const base = encoded[i % encoded.length];
      if (i % 3 === 0) {
        bytes = Uint8Array.from({ length: Math.floor(random() * 200) }, () =>
          Math.floor(random() * 256),
        );
      } else if (i % 3 === 1) {
        bytes = base.subarray(0, Math.floor(random() * base.length));
      } else {
        bytes = Uint8Array.from(base);
        const flips = 1 + Math.floor(random() * 4);
        for (let f = 0; f < flips; f += 1)
          bytes[Math.floor(random() * bytes.length)] ^= 1 << Math.floor(random() * 8);
      }
      const result = decodeGossipMessage(bytes);
      if (result.ok) expect(typeof result.message.type).toBe('string');
      else expect(result.error.length).toBeGreaterThan(0);
    }
  });
});
