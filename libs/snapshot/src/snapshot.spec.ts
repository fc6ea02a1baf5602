import fc from 'fast-check';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Snapshot } from '@parley/raft';
import { decodeSnapshot, encodeSnapshot, encodeSnapshotPieces } from './format';
import { FsSnapshotStore, SnapshotCorruptError } from './fs-store';

const snapshot = (index: number, body = `state-${index}`): Snapshot => ({
  meta: {
    index,
    term: 2,
    confState: {
      voters: ['n1', 'n2', 'n3'],
      votersOutgoing: [],
      learners: ['n4'],
      learnersNext: [],
      autoLeave: false,
    },
  },
  data: new TextEncoder().encode(body),
});

describe('snapshot format', () => {
  it('round-trips metadata and data', () => {
    expect(decodeSnapshot(encodeSnapshot(snapshot(42)))).toEqual(snapshot(42));
  });

  it('refuses a snapshot whose SHA-256 does not match', () => {
    const bytes = encodeSnapshot(snapshot(42));
    bytes[bytes.length - 40] ^= 1;
    expect(decodeSnapshot(bytes)).toEqual({ error: 'snapshot failed its SHA-256 check' });
  });

  it('refuses foreign and truncated files', () => {
    expect(decodeSnapshot(Buffer.from('{"index":1}'))).toEqual({
      error: 'snapshot file too short',
    });
    const bytes = encodeSnapshot(snapshot(1));
    expect('error' in decodeSnapshot(bytes.subarray(0, bytes.length - 1))).toBe(true);
    const foreign = Buffer.from(bytes);
    foreign.write('NOTASNAP', 0);
    expect(decodeSnapshot(foreign)).toEqual({ error: 'not a Parley snapshot (bad magic)' });
  });

  it('never throws on random bytes or mutated snapshots (fuzz)', () => {
    const valid = encodeSnapshot(snapshot(7));
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (random, at, flip) => {
          decodeSnapshot(random);
          const mutated = Buffer.from(valid);
          mutated[at % mutated.length] ^= flip;
          expect('error' in decodeSnapshot(mutated)).toBe(true);
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('snapshot format written in pieces', () => {
  it.each([0, 1, 1024 * 1024, 2.5 * 1024 * 1024])(
    'gives the bytes of the whole encoding (%i bytes of state, hashed in slices)',
    async (size) => {
      const big: Snapshot = {
        ...snapshot(9),
        data: Uint8Array.from({ length: size }, (_, i) => i * 7),
      };
      const pieces = await encodeSnapshotPieces(big);
      expect(Buffer.concat(pieces).equals(encodeSnapshot(big))).toBe(true);
    },
  );
});

describe('filesystem snapshot store', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'parley-snap-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('loads the newest snapshot and keeps only the newest K', async () => {
    const store = new FsSnapshotStore(dir, 2);
    for (const index of [10, 20, 30]) await store.save(snapshot(index));
    expect(await store.list()).toEqual([30, 20]);
    expect((await store.loadLatest())?.meta.index).toBe(30);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('writes the format byte for byte, and saves started together all land in order', async () => {
    const store = new FsSnapshotStore(dir, 3);
    // Not awaited one by one: the store runs them in turn, so no save's clean-up removes
    // another's temporary file (the first, large one would still be hashing its slices when
    // the small ones finished).
    const size = (index: number) => (index === 10 ? 3 * 1024 * 1024 : index * 1000);
    await Promise.all(
      [10, 20, 30, 40].map((index) => store.save(snapshot(index, 'x'.repeat(size(index))))),
    );
    expect(await store.list()).toEqual([40, 30, 20]);
    const [newest] = readdirSync(dir).sort().reverse();
    expect(
      readFileSync(join(dir, newest)).equals(encodeSnapshot(snapshot(40, 'x'.repeat(40_000)))),
    ).toBe(true);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('has nothing to load when empty', async () => {
    expect(await new FsSnapshotStore(dir, 2).loadLatest()).toBeUndefined();
  });

  it('refuses to load a snapshot file that fails its checksum', async () => {
    const store = new FsSnapshotStore(dir, 2);
    await store.save(snapshot(10));
    const [file] = readdirSync(dir);
    const bytes = readFileSync(join(dir, file));
    bytes[20] ^= 0xff;
    writeFileSync(join(dir, file), bytes);
    await expect(store.loadLatest()).rejects.toThrow(SnapshotCorruptError);
  });
});
