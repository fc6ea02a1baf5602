import fc from 'fast-check';
import { EntryType, Message, MessageType, message } from '@parley/raft';
import { decodeMessage, encodeMessage } from './message-codec';

const types = Object.values(MessageType);
const id = fc.stringMatching(/^[a-z0-9-]{1,12}$/);
const u53 = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const entry = fc.record({
  term: u53,
  index: u53,
  type: fc.constantFrom(EntryType.Normal, EntryType.ConfChange),
  data: fc.uint8Array({ maxLength: 64 }),
});
const chunk = fc
  .record({
    index: u53,
    term: u53,
    voters: fc.array(id, { maxLength: 5 }),
    data: fc.uint8Array({ maxLength: 64 }),
    extra: fc.integer({ min: 0, max: 1000 }),
  })
  .map(({ index, term, voters, data, extra }) => ({
    meta: {
      index,
      term,
      confState: { voters, votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false },
    },
    offset: extra,
    data,
    totalBytes: extra + data.length,
  }));
const arbitraryMessage: fc.Arbitrary<Message> = fc
  .record({
    type: fc.constantFrom(...types),
    to: id,
    from: id,
    term: u53,
    logTerm: u53,
    index: u53,
    commit: u53,
    reject: fc.boolean(),
    rejectHint: u53,
    context: fc.string({ maxLength: 40 }),
    sentTick: u53,
    snapshotOffset: u53,
    entries: fc.array(entry, { maxLength: 5 }),
    snapshotChunk: fc.option(chunk, { nil: undefined }),
  })
  .map((fields) => message(fields));

describe('peer message codec', () => {
  it('decodes exactly what it encoded', () => {
    fc.assert(
      fc.property(arbitraryMessage, (m) => {
        const decoded = decodeMessage(encodeMessage(m));
        expect(decoded.ok).toBe(true);
        if (decoded.ok) expect(decoded.message).toEqual(m);
      }),
      { numRuns: 500 },
    );
  });

  it('answers an error value, never a throw, for random bytes (fuzz)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        const decoded = decodeMessage(bytes);
        if (!decoded.ok) expect(typeof decoded.error).toBe('string');
      }),
      { numRuns: 5000 },
    );
  });

  it('answers an error value for every truncation and single-byte corruption of a valid message', () => {
    fc.assert(
      fc.property(arbitraryMessage, fc.nat(), fc.integer({ min: 1, max: 255 }), (m, at, flip) => {
        const bytes = encodeMessage(m);
        const cut = bytes.subarray(0, at % bytes.length);
        expect(decodeMessage(cut).ok).toBe(false);
        const corrupted = bytes.slice();
        corrupted[at % bytes.length] ^= flip;
        // A flip may still decode to some valid message; it must never throw.
        decodeMessage(corrupted);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses an entry count larger than the frame before allocating for it', () => {
    const bytes = encodeMessage(message({ type: MessageType.App, to: 'a', from: 'b' }));
    // The entry count sits after the fixed fields; set it to 2^32-1.
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    const countOffset = bytes.length - 4 - 1;
    view.setUint32(countOffset, 0xffffffff);
    const decoded = decodeMessage(bytes);
    expect(decoded.ok).toBe(false);
  });
});
