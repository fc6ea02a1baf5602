import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EntryType } from '@parley/raft';
import { Wal } from '../../apps/command-log/src/wal/wal';
import { fuzzTest } from './harness';
import { walRecordTarget, walReplayTarget } from './targets/wal';

describe('fuzz: command-log write-ahead log', () => {
  fuzzTest(walRecordTarget);
  fuzzTest(walReplayTarget);

  describe('regressions', () => {
    it('wal-replay counterexample: a suffix truncated under a snapshot does not come back', async () => {
      // fast-check seed -1344543427, path "218:1:2:2:2:5:5:6:6:6:6:6", on an undamaged log.
      await expect(
        walReplayTarget.execute({
          steps: [
            { kind: 'append', count: 2, term: 1 },
            { kind: 'overwrite', back: 1, count: 1, term: 1 },
            { kind: 'snapshot', ahead: 0, term: 1 },
            { kind: 'hard-state', term: 0, vote: '', commit: 0 },
          ],
          split: 0,
          damaged: 0,
          damage: { kind: 'none' },
        }),
      ).resolves.toBeUndefined();
    });

    describe('through the Wal API', () => {
      let dir: string;
      beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'parley-fuzz-wal-regression-'))));
      afterEach(() => rmSync(dir, { recursive: true, force: true }));
      const options = () => ({
        dir,
        segmentBytesMax: 1 << 20,
        fsync: false,
        logger: { log: () => undefined, warn: () => undefined },
      });
      const entry = (index: number, term: number) => ({
        index,
        term,
        type: EntryType.Normal,
        data: Uint8Array.of(index, term),
      });

      it('a rewrite at or below the snapshot index still drops the stale entries after it', async () => {
        const { wal } = await Wal.open(options());
        await wal.save(undefined, [entry(1, 1), entry(2, 1)]);
        // A new leader of term 2 overwrites index 1, which truncates entry 2 of term 1...
        await wal.save({ term: 2, vote: 'n2', commit: 1 }, [entry(1, 2)]);
        // ...and index 1 is then applied and snapshotted.
        await wal.saveSnapshotMarker(1, 2);
        await wal.close();
        const { wal: reopened, replay } = await Wal.open(options());
        await reopened.close();
        expect(replay.snapshot).toEqual({ index: 1, term: 2 });
        // Before the fix: [[2, 1]], a log whose last term (1) is below its snapshot's (2).
        expect(replay.entries.map((e) => [e.index, e.term])).toEqual([]);
      });

      it('entries written after such a rewrite are kept', async () => {
        const { wal } = await Wal.open(options());
        await wal.save(undefined, [entry(1, 1), entry(2, 1), entry(3, 1)]);
        await wal.save(undefined, [entry(2, 2)]);
        await wal.saveSnapshotMarker(2, 2);
        await wal.save(undefined, [entry(3, 2), entry(4, 2)]);
        await wal.close();
        const { wal: reopened, replay } = await Wal.open(options());
        await reopened.close();
        expect(replay.entries.map((e) => [e.index, e.term])).toEqual([
          [3, 2],
          [4, 2],
        ]);
      });
    });
  });
});
