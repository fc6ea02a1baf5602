import fc from 'fast-check';
import { PACKET_SKEW_MS, PacketOpener, sealPacket } from '../../../libs/app-kit/src/sealed-message';
import {
  GossipMessage,
  MEMBERS_PER_PUSH_PULL_MAX,
  MemberMeta,
  MemberState,
  UPDATES_PER_MESSAGE_MAX,
  Update,
  decodeGossipMessage,
  encodeGossipMessage,
} from '@parley/gossip';
import { FuzzTarget, ensure } from '../harness';
import { applyMutations, binaryInputs, hex, mutations } from '../mutators';

/**
 * Gossip as it arrives from the network: a sealed packet (version, timestamp, payload, HMAC)
 * opened by libs/app-kit, then the binary SWIM message of libs/gossip.
 */
const memberId = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,15}$/);
const u53 = fc.oneof(fc.nat({ max: 1000 }), fc.maxSafeNat());
const meta: fc.Arbitrary<MemberMeta> = fc.record({
  role: fc.constantFrom('replica', 'agent', 'api'),
  appAddress: fc.string({ maxLength: 24 }),
  version: fc.string({ maxLength: 8 }),
});
const update: fc.Arbitrary<Update> = fc.oneof(
  fc.record({
    kind: fc.constant('alive' as const),
    id: memberId,
    incarnation: u53,
    address: fc.string({ maxLength: 24 }),
    meta,
  }),
  fc.record({
    kind: fc.constantFrom('suspect' as const, 'dead' as const),
    id: memberId,
    incarnation: u53,
    from: memberId,
  }),
);
const updates = fc.array(update, { maxLength: 4 });
export const validGossipMessage: fc.Arbitrary<GossipMessage> = fc.oneof(
  fc.record({
    type: fc.constantFrom('ping' as const, 'ping-req' as const),
    seq: u53,
    from: memberId,
    target: memberId,
    updates,
  }),
  fc.record({ type: fc.constant('ack' as const), seq: u53, from: memberId, updates }),
  fc.record({ type: fc.constant('nack' as const), seq: u53, from: memberId }),
  fc.record({ type: fc.constant('gossip' as const), from: memberId, updates }),
  fc.record({
    type: fc.constant('push-pull' as const),
    from: memberId,
    reply: fc.boolean(),
    members: fc.array(
      fc.record({
        id: memberId,
        address: fc.string({ maxLength: 24 }),
        meta,
        incarnation: u53,
        state: fc.constantFrom(...Object.values(MemberState)),
      }),
      { maxLength: 4 },
    ),
  }),
);

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

function checkGossipBytes(bytes: Uint8Array): void {
  const decoded = decodeGossipMessage(bytes);
  if (!decoded.ok) {
    ensure(typeof decoded.error === 'string' && decoded.error.length > 0, 'an empty gossip error');
    return;
  }
  const m = decoded.message;
  const ids = [m.from];
  if (m.type === 'ping' || m.type === 'ping-req') ids.push(m.target);
  if ('updates' in m) {
    ensure(m.updates.length <= UPDATES_PER_MESSAGE_MAX, 'more updates than the bound');
    for (const u of m.updates) ids.push(u.id, ...(u.kind === 'alive' ? [] : [u.from]));
  }
  if (m.type === 'push-pull') {
    ensure(m.members.length <= MEMBERS_PER_PUSH_PULL_MAX, 'more members than the bound');
    ids.push(...m.members.map((member) => member.id));
  }
  for (const id of ids)
    ensure(
      ID_PATTERN.test(id),
      `an accepted message carries the bad member id ${JSON.stringify(id)}`,
    );
  // What was accepted is well-formed: it encodes to exactly the bytes it came from.
  ensure(
    hex(encodeGossipMessage(m)) === hex(bytes),
    'an accepted gossip message does not re-encode to its bytes',
  );
}

export const gossipMessageTarget: FuzzTarget<Uint8Array> = {
  name: 'gossip-message',
  arbitrary: binaryInputs(validGossipMessage.map(encodeGossipMessage)),
  execute: checkGossipBytes,
};

/* --------------------------------------------------------------------------------------------
 * Sealed packets: only the honest sender's unmodified packets open, each once, within the skew.
 * ------------------------------------------------------------------------------------------ */
const SECRET = 'fuzz-gossip-secret-0123456789';
const NOW_MS = 1_700_000_000_000;

interface Arrival {
  /** The packet as received. */
  packet: Uint8Array;
  /** The honest packet it came from, when it came from one (hex). */
  honest: string | undefined;
  /** Whether the honest packet was sealed inside the skew window. */
  fresh: boolean;
}

const arrival: fc.Arbitrary<Arrival> = fc
  .tuple(
    validGossipMessage.map(encodeGossipMessage),
    fc.oneof(
      fc.integer({ min: -PACKET_SKEW_MS, max: PACKET_SKEW_MS }),
      fc.integer({ min: -10 * PACKET_SKEW_MS, max: 10 * PACKET_SKEW_MS }),
    ),
    fc.option(mutations, { nil: undefined, freq: 2 }),
  )
  .map(([payload, skew, edits]) => {
    const honest = sealPacket(SECRET, payload, NOW_MS + skew);
    const packet = edits ? applyMutations(honest, edits) : honest;
    return { packet, honest: hex(honest), fresh: Math.abs(skew) <= PACKET_SKEW_MS };
  });

const arrivals = fc.array(
  fc.oneof(
    { weight: 5, arbitrary: arrival },
    {
      weight: 1,
      arbitrary: fc
        .uint8Array({ maxLength: 128 })
        .map((packet) => ({ packet, honest: undefined, fresh: false })),
    },
  ),
  { minLength: 1, maxLength: 6 },
);

/** A few packets on one opener (so replays within the input are seen), each then decoded. */
export const sealedPacketTarget: FuzzTarget<{ arrivals: Arrival[]; replay: number }> = {
  name: 'sealed-packet',
  arbitrary: fc.record({ arrivals, replay: fc.nat() }),
  execute({ arrivals: received, replay }) {
    const opener = new PacketOpener(SECRET);
    const sequence = [...received, received[replay % received.length]];
    const opened = new Set<string>();
    for (const { packet, honest, fresh } of sequence) {
      const result = opener.open(packet, NOW_MS);
      if (!result.ok) {
        ensure(
          typeof result.reason === 'string' && result.reason.length > 0,
          'an empty packet refusal',
        );
        continue;
      }
      ensure(hex(packet) === honest, 'a packet was opened that the honest sender never sealed');
      ensure(fresh, 'a packet outside the clock skew window was opened');
      ensure(!opened.has(hex(packet)), 'a replayed packet was opened twice');
      opened.add(hex(packet));
      checkGossipBytes(result.payload);
    }
  },
};
