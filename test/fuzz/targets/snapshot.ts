import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Snapshot } from '@parley/raft';
import {
  FsSnapshotStore,
  SnapshotCorruptError,
  decodeSnapshot,
  encodeSnapshot,
} from '@parley/snapshot';
import { FuzzTarget, ensure } from '../harness';
import {
  ByteMutation,
  JsonMutation,
  applyJsonMutations,
  applyMutations,
  concat,
  hex,
  jsonMutation,
  mutations,
  toJsonText,
} from '../mutators';

/**
 * The checksummed snapshot files of libs/snapshot. Any change to a valid file must be refused
 * (SHA-256), so plain mutations only test the refusal; to reach the metadata validation the
 * "resealed" inputs damage the file and then recompute the digest, as a buggy writer would.
 */
const member = fc.stringMatching(/^[a-z0-9-]{1,10}$/);
const members = fc.array(member, { maxLength: 4 });
export const validSnapshot: fc.Arbitrary<Snapshot> = fc.record({
  meta: fc.record({
    index: fc.oneof(fc.nat({ max: 1000 }), fc.maxSafeNat()),
    term: fc.oneof(fc.nat({ max: 10 }), fc.maxSafeNat()),
    confState: fc.record({
      voters: members,
      votersOutgoing: members,
      learners: members,
      learnersNext: members,
      autoLeave: fc.boolean(),
    }),
  }),
  data: fc.uint8Array({ maxLength: 64 }),
});

const MAGIC = Buffer.from('PRLYSNAP', 'ascii');

/** The file format written by hand, so the metadata text and lengths can be anything. */
function snapshotFile(metaText: string, data: Uint8Array): Uint8Array {
  const meta = Buffer.from(metaText, 'utf8');
  const header = Buffer.alloc(MAGIC.length + 6);
  MAGIC.copy(header, 0);
  header.writeUInt16BE(1, MAGIC.length);
  header.writeUInt32BE(meta.length, MAGIC.length + 2);
  const dataLength = Buffer.alloc(8);
  dataLength.writeBigUInt64BE(BigInt(data.length));
  return seal(concat(header, meta, dataLength, data));
}

const seal = (body: Uint8Array) => concat(body, createHash('sha256').update(body).digest());

type SnapshotInput =
  | { kind: 'plain'; original: Uint8Array; bytes: Uint8Array }
  | { kind: 'resealed'; bytes: Uint8Array };

const plain: fc.Arbitrary<SnapshotInput> = fc
  .tuple(validSnapshot, fc.option(mutations, { nil: undefined }))
  .map(([snapshot, edits]) => {
    const original = encodeSnapshot(snapshot);
    return { kind: 'plain', original, bytes: edits ? applyMutations(original, edits) : original };
  });

/** Damage to the body (header, lengths, metadata, data) with the digest recomputed after it. */
const resealedBytes: fc.Arbitrary<SnapshotInput> = fc
  .tuple(validSnapshot, mutations)
  .map(([snapshot, edits]: [Snapshot, ByteMutation[]]) => {
    const encoded = encodeSnapshot(snapshot);
    return {
      kind: 'resealed',
      bytes: seal(applyMutations(encoded.subarray(0, encoded.length - 32), edits)),
    };
  });

/** Structure-aware: the metadata document is mutated as JSON, the file is rebuilt and sealed. */
const resealedMeta: fc.Arbitrary<SnapshotInput> = fc
  .tuple(
    validSnapshot,
    fc.array(jsonMutation(['voters', 'index', 'term', 'autoLeave']), {
      minLength: 1,
      maxLength: 3,
    }),
  )
  .map(([snapshot, edits]: [Snapshot, JsonMutation[]]) => {
    const meta = {
      index: snapshot.meta.index,
      term: snapshot.meta.term,
      confState: snapshot.meta.confState,
    };
    return {
      kind: 'resealed',
      bytes: snapshotFile(toJsonText(applyJsonMutations(meta, edits)), snapshot.data),
    };
  });

const snapshotInput: fc.Arbitrary<SnapshotInput> = fc.oneof(
  { weight: 3, arbitrary: plain },
  { weight: 2, arbitrary: resealedBytes },
  { weight: 3, arbitrary: resealedMeta },
  {
    weight: 1,
    arbitrary: fc
      .uint8Array({ maxLength: 256 })
      .map((bytes) => ({ kind: 'resealed' as const, bytes })),
  },
);

const natural = (n: unknown) => Number.isSafeInteger(n) && (n as number) >= 0;
const memberList = (ids: unknown) =>
  Array.isArray(ids) &&
  ids.length <= 1024 &&
  ids.every((id) => typeof id === 'string' && id.length > 0 && id.length <= 64);

function checkAccepted(snapshot: Snapshot, bytes: Uint8Array): void {
  const { meta } = snapshot;
  ensure(
    natural(meta.index) && natural(meta.term),
    'an accepted snapshot with a bad index or term',
  );
  const cs = meta.confState;
  ensure(
    [cs.voters, cs.votersOutgoing, cs.learners, cs.learnersNext].every(memberList),
    'an accepted snapshot with a bad member list',
  );
  ensure(typeof cs.autoLeave === 'boolean', 'an accepted snapshot with a non-boolean autoLeave');
  ensure(snapshot.data.buffer !== bytes.buffer, 'snapshot data aliases the file buffer');
  // What was accepted re-encodes to a file that decodes to the same snapshot.
  const again = decodeSnapshot(encodeSnapshot(snapshot));
  ensure(!('error' in again), 'an accepted snapshot does not survive a re-encode');
  ensure(
    hex(encodeSnapshot(again)) === hex(encodeSnapshot(snapshot)),
    'a re-decoded snapshot differs',
  );
}

function checkSnapshotBytes(input: SnapshotInput): Snapshot | undefined {
  const decoded = decodeSnapshot(input.bytes);
  if ('error' in decoded) {
    ensure(
      typeof decoded.error === 'string' && decoded.error.length > 0,
      'an empty snapshot error',
    );
    if (input.kind === 'plain')
      ensure(
        hex(input.bytes) !== hex(input.original),
        `a valid snapshot was refused: ${decoded.error}`,
      );
    return undefined;
  }
  // SHA-256: no edit of a valid file gets through, whatever it hit.
  if (input.kind === 'plain')
    ensure(hex(input.bytes) === hex(input.original), 'a damaged snapshot file was accepted');
  checkAccepted(decoded, input.bytes);
  return decoded;
}

export const snapshotFormatTarget: FuzzTarget<SnapshotInput> = {
  name: 'snapshot-format',
  arbitrary: snapshotInput,
  execute(input) {
    checkSnapshotBytes(input);
  },
};

/** The same inputs through FsSnapshotStore.loadLatest, from a file in a temp directory. */
export const snapshotStoreTarget: FuzzTarget<{ input: SnapshotInput; index: number }> = {
  name: 'snapshot-store',
  io: true,
  arbitrary: fc.record({ input: snapshotInput, index: fc.nat({ max: 1000 }) }),
  async execute({ input, index }) {
    const dir = mkdtempSync(join(tmpdir(), 'parley-fuzz-snap-'));
    try {
      const name = `snap-${String(index).padStart(16, '0')}-${String(1).padStart(16, '0')}.snap`;
      writeFileSync(join(dir, name), input.bytes);
      let loaded: Snapshot | undefined;
      try {
        loaded = await new FsSnapshotStore(dir, 2).loadLatest();
      } catch (error) {
        if (error instanceof SnapshotCorruptError) return;
        throw error;
      }
      ensure(loaded !== undefined, 'a snapshot file was there but nothing was loaded');
      ensure(
        loaded.meta.index === index,
        'the store loaded a snapshot whose index is not its name',
      );
      ensure(
        !('error' in decodeSnapshot(input.bytes)),
        'the store loaded a file the decoder refuses',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
