import { deepStrictEqual } from 'node:assert/strict';
import fc from 'fast-check';
import { ConfState, EntryType, Message, MessageType, message } from '@parley/raft';
import {
  Hello,
  decodeChallenge,
  decodeData,
  decodeHello,
  encodeChallenge,
  encodeData,
  encodeHello,
  sessionKey,
} from '../../../apps/command-log/src/peer-transport/frame-auth';
import { FrameSplitter, frame } from '../../../apps/command-log/src/peer-transport/frame-splitter';
import {
  DEFAULT_MESSAGE_LIMITS,
  MessageLimits,
  decodeMessage,
  encodeMessage,
} from '../../../apps/command-log/src/peer-transport/message-codec';
import { FuzzTarget, ensure } from '../harness';
import { applyMutations, binaryInputs, concat, hex, mutations } from '../mutators';

/**
 * The command-log peer transport as a server sees it: a TCP byte stream split into frames, a
 * HELLO, then authenticated DATA frames whose payload is a Raft message. message-codec.spec.ts
 * already checks round trips and single flips; here every layer gets structured mutations
 * (huge length fields, insertions, crossovers) and the answers are checked, not just survived.
 */
const id = fc.stringMatching(/^[a-z0-9-]{1,12}$/);
const u53 = fc.oneof(
  fc.integer({ min: 0, max: 1000 }),
  fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
);
const ids = fc.array(id, { maxLength: 4 });
const confState: fc.Arbitrary<ConfState> = fc.record({
  voters: ids,
  votersOutgoing: ids,
  learners: ids,
  learnersNext: ids,
  autoLeave: fc.boolean(),
});
const snapshotChunk = fc
  .record({
    index: u53,
    term: u53,
    confState,
    data: fc.uint8Array({ maxLength: 48 }),
    offset: fc.integer({ min: 0, max: 1000 }),
    extra: fc.integer({ min: 0, max: 1000 }),
  })
  .map(({ index, term, confState: cs, data, offset, extra }) => ({
    meta: { index, term, confState: cs },
    offset,
    data,
    totalBytes: offset + data.length + extra,
  }));
export const validMessage: fc.Arbitrary<Message> = fc
  .record({
    type: fc.constantFrom(...Object.values(MessageType)),
    to: id,
    from: id,
    term: u53,
    logTerm: u53,
    index: u53,
    commit: u53,
    reject: fc.boolean(),
    rejectHint: u53,
    context: fc.string({ maxLength: 24 }),
    sentTick: u53,
    snapshotOffset: u53,
    entries: fc.array(
      fc.record({
        term: u53,
        index: u53,
        type: fc.constantFrom(EntryType.Normal, EntryType.ConfChange),
        data: fc.uint8Array({ maxLength: 32 }),
      }),
      { maxLength: 4 },
    ),
    snapshotChunk: fc.option(snapshotChunk, { nil: undefined }),
  })
  .map((fields) => message(fields));

/** Small limits, so inputs cross them often and the limit checks themselves are exercised. */
const SMALL_LIMITS: MessageLimits = { entriesMax: 2, entryBytesMax: 16, chunkBytesMax: 24 };

function checkDecodedMessage(bytes: Uint8Array, limits: MessageLimits): void {
  const decoded = decodeMessage(bytes, limits);
  if (!decoded.ok) {
    ensure(
      typeof decoded.error === 'string' && decoded.error.length > 0,
      'an empty error from decodeMessage',
    );
    return;
  }
  const m = decoded.message;
  ensure(m.entries.length <= limits.entriesMax, 'more entries than the limit');
  for (const entry of m.entries) {
    ensure(entry.data.length <= limits.entryBytesMax, 'an entry larger than the limit');
    // Entries outlive the frame in the log: they must not alias the input buffer.
    ensure(entry.data.buffer !== bytes.buffer, 'an entry aliases the frame buffer');
  }
  if (m.snapshotChunk) {
    ensure(m.snapshotChunk.data.length <= limits.chunkBytesMax, 'a chunk larger than the limit');
    ensure(
      m.snapshotChunk.offset + m.snapshotChunk.data.length <= m.snapshotChunk.totalBytes,
      'a chunk past the snapshot size',
    );
  }
  // What was accepted is a well-formed message: it encodes, and decodes to itself (compared
  // on the wire: the frame path hands out Buffers, a re-decode Uint8Arrays).
  const encoded = encodeMessage(m);
  const again = decodeMessage(encoded, limits);
  ensure(again.ok, `an accepted message does not survive a re-encode: ${again.ok || again.error}`);
  ensure(hex(encodeMessage(again.message)) === hex(encoded), 'a re-decoded message differs');
}

export const peerMessageTarget: FuzzTarget<{ bytes: Uint8Array; small: boolean }> = {
  name: 'peer-message',
  arbitrary: fc.record({
    bytes: binaryInputs(validMessage.map(encodeMessage)),
    small: fc.boolean(),
  }),
  execute({ bytes, small }) {
    checkDecodedMessage(bytes, small ? SMALL_LIMITS : DEFAULT_MESSAGE_LIMITS);
  },
};

/* --------------------------------------------------------------------------------------------
 * The frame layer: splitter, HELLO, DATA (server side) and CHALLENGE (client side).
 * ------------------------------------------------------------------------------------------ */
const SECRET = 'fuzz-cluster-secret-0123456789';
const FRAME_BYTES_MAX = 4096;
const HELLO: Hello = { from: 'n1', to: 'n2', clientNonce: new Uint8Array(32).fill(7) };
const SERVER_NONCE = new Uint8Array(32).fill(9);
const KEY = sessionKey(SECRET, HELLO, SERVER_NONCE);

export interface PeerStream {
  /** The bytes a peer sent, in the chunks TCP delivered them. */
  chunks: Uint8Array[];
  /** Payloads the honest peer authenticated, in order (the only ones the server may accept). */
  honestPayloads: string[];
}

const honestSession = fc.array(validMessage, { maxLength: 3 }).map((messages) => {
  const payloads = messages.map((m) => encodeMessage({ ...m, from: HELLO.from, to: HELLO.to }));
  const frames = [
    frame(encodeHello(SECRET, HELLO)),
    ...payloads.map((p, i) => frame(encodeData(KEY, i + 1, p))),
  ];
  return { stream: concat(...frames), payloads: payloads.map(hex) };
});

const peerStream: fc.Arbitrary<PeerStream> = fc
  .tuple(
    honestSession,
    fc.oneof({ weight: 1, arbitrary: fc.constant([]) }, { weight: 4, arbitrary: mutations }),
    fc.uint8Array({ maxLength: 64 }),
    fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 8 }),
  )
  .map(([session, edits, trailing, cuts]) => {
    const stream = concat(applyMutations(session.stream, edits), trailing);
    const chunks: Uint8Array[] = [];
    let offset = 0;
    for (let i = 0; offset < stream.length; i += 1) {
      const size = cuts[i % cuts.length] * (i % 3 === 2 ? 8 : 1);
      chunks.push(stream.subarray(offset, offset + size));
      offset += size;
    }
    return { chunks, honestPayloads: session.payloads };
  });

/** What PeerServer does with a connection's bytes, minus the socket; answers are checked. */
function serveStream({ chunks, honestPayloads }: PeerStream): void {
  const splitter = new FrameSplitter(FRAME_BYTES_MAX);
  let hello: Hello | undefined;
  let expectedSequence = 1;
  let received = 0;
  let produced = 0;
  for (const chunk of chunks) {
    received += chunk.length;
    const split = splitter.push(Buffer.from(chunk));
    if ('error' in split) {
      ensure(split.error.length > 0, 'an empty splitter error');
      return; // the server closes the connection
    }
    for (const body of split.frames) {
      ensure(body.length <= FRAME_BYTES_MAX, 'a frame larger than the bound came out');
      produced += 4 + body.length;
      ensure(produced <= received, 'the splitter produced more bytes than it was fed');
      // The client side of the handshake must refuse anything but a CHALLENGE, cleanly.
      const challenge = decodeChallenge(SECRET, HELLO, body);
      ensure(
        challenge instanceof Uint8Array || challenge.error.length > 0,
        'an empty CHALLENGE error',
      );
      if (hello === undefined) {
        const decoded = decodeHello(SECRET, body);
        if ('error' in decoded) {
          ensure(decoded.error.length > 0, 'an empty HELLO error');
          return;
        }
        deepStrictEqual(
          { from: decoded.from, to: decoded.to, nonce: hex(decoded.clientNonce) },
          { from: HELLO.from, to: HELLO.to, nonce: hex(HELLO.clientNonce) },
          'a HELLO was accepted that the honest peer did not send',
        );
        hello = decoded;
        continue;
      }
      const payload = decodeData(
        sessionKey(SECRET, hello, SERVER_NONCE),
        expectedSequence,
        body,
        FRAME_BYTES_MAX,
      );
      if (!(payload instanceof Uint8Array)) {
        ensure(payload.error.length > 0, 'an empty DATA error');
        return;
      }
      // Authentication: only the honest peer's payloads, in its order, ever get through.
      ensure(
        honestPayloads[expectedSequence - 1] === hex(payload),
        `DATA frame ${expectedSequence} was accepted but the honest peer never sent it`,
      );
      expectedSequence += 1;
      checkDecodedMessage(payload, DEFAULT_MESSAGE_LIMITS);
    }
  }
}

export const peerFrameTarget: FuzzTarget<PeerStream> = {
  name: 'peer-frames',
  arbitrary: fc.oneof(
    { weight: 5, arbitrary: peerStream },
    {
      weight: 1,
      arbitrary: fc
        .array(fc.uint8Array({ minLength: 1, maxLength: 64 }), { maxLength: 6 })
        .map((chunks) => ({ chunks, honestPayloads: [] })),
    },
  ),
  execute: serveStream,
};

/** A CHALLENGE the honest server would send, mutated: the client side of the handshake. */
export const peerChallengeTarget: FuzzTarget<Uint8Array> = {
  name: 'peer-challenge',
  arbitrary: binaryInputs(fc.constant(encodeChallenge(SECRET, HELLO, SERVER_NONCE))),
  execute(body) {
    const nonce = decodeChallenge(SECRET, HELLO, body);
    if (nonce instanceof Uint8Array)
      ensure(hex(nonce) === hex(SERVER_NONCE), 'a forged CHALLENGE was accepted');
    else ensure(nonce.error.length > 0, 'an empty CHALLENGE error');
  },
};
