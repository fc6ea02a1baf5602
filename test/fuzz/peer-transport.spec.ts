import { EntryType, MessageType, message } from '@parley/raft';
import {
  decodeMessage,
  encodeMessage,
} from '../../apps/command-log/src/peer-transport/message-codec';
import { fuzzTest } from './harness';
import { PEER_FRAMES_ENTRY_ALIAS } from './regressions/peer-frames-entry-alias';
import { peerChallengeTarget, peerFrameTarget, peerMessageTarget } from './targets/peer-transport';

describe('fuzz: command-log peer transport', () => {
  fuzzTest(peerMessageTarget);
  fuzzTest(peerFrameTarget);
  fuzzTest(peerChallengeTarget);

  describe('regressions', () => {
    it('peer-frames counterexample: entries decoded from a socket Buffer are copies', () => {
      expect(() =>
        peerFrameTarget.execute({
          chunks: PEER_FRAMES_ENTRY_ALIAS.chunks.map((hex) => Buffer.from(hex, 'hex')),
          honestPayloads: PEER_FRAMES_ENTRY_ALIAS.honestPayloads,
        }),
      ).not.toThrow();
    });

    it('a 3-byte entry does not pin the 60 KB socket chunk it arrived in', () => {
      const wire = encodeMessage(
        message({
          type: MessageType.App,
          to: 'b',
          from: 'a',
          entries: [{ term: 1, index: 1, type: EntryType.Normal, data: Uint8Array.of(1, 2, 3) }],
          snapshotChunk: {
            meta: {
              index: 1,
              term: 1,
              confState: {
                voters: ['a'],
                votersOutgoing: [],
                learners: [],
                learnersNext: [],
                autoLeave: false,
              },
            },
            offset: 0,
            data: Uint8Array.of(4, 5),
            totalBytes: 2,
          },
        }),
      );
      const socketChunk = Buffer.concat([Buffer.alloc(60_000), wire]);
      const decoded = decodeMessage(socketChunk.subarray(60_000));
      expect(decoded.ok).toBe(true);
      if (!decoded.ok) return;
      const entry = decoded.message.entries[0].data;
      const chunk = decoded.message.snapshotChunk!.data;
      expect([...entry]).toEqual([1, 2, 3]);
      expect([...chunk]).toEqual([4, 5]);
      expect(entry.buffer).not.toBe(socketChunk.buffer);
      expect(chunk.buffer).not.toBe(socketChunk.buffer);
      socketChunk.fill(0xee);
      expect([...entry]).toEqual([1, 2, 3]);
    });
  });
});
