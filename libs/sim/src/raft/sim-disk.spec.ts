import { Entry, EntryType } from '@parley/raft';
import { Rng } from './rng';
import { SimDisk } from './sim-disk';

const entry = (index: number, term = 1): Entry => ({
  index,
  term,
  type: EntryType.Normal,
  data: new Uint8Array([index]),
});

describe('SimDisk', () => {
  it('keeps synced entries and a new term across a power loss', async () => {
    const disk = new SimDisk(new Rng(1), {}, () => undefined);
    const { wal } = disk.open();
    await wal.save({ term: 2, vote: 'a', commit: 0 }, [entry(1), entry(2)]);
    disk.powerLoss();
    const { recovered } = disk.open();
    expect(recovered.entries.map((e) => e.index)).toEqual([1, 2]);
    expect(recovered.hardState).toEqual({ term: 2, vote: 'a', commit: 0 });
  });

  it('holds a commit-only change in the process: a crash loses it, the next write or a close keeps it', async () => {
    const disk = new SimDisk(new Rng(1), {}, () => undefined);
    let { wal } = disk.open();
    await wal.save({ term: 2, vote: 'a', commit: 0 }, [entry(1)]);
    await wal.save({ term: 2, vote: 'a', commit: 1 }, []);
    disk.powerLoss();
    expect(disk.open().recovered.hardState.commit).toBe(0);

    ({ wal } = disk.open());
    await wal.save({ term: 2, vote: 'a', commit: 1 }, []);
    await wal.save(undefined, [entry(2)]);
    disk.powerLoss();
    expect(disk.open().recovered.hardState).toEqual({ term: 2, vote: 'a', commit: 1 });

    ({ wal } = disk.open());
    await wal.save({ term: 2, vote: 'a', commit: 2 }, []);
    await wal.close();
    disk.powerLoss();
    expect(disk.open().recovered.hardState.commit).toBe(2);
  });

  it('tears the write a power loss interrupts: a prefix of its records, never a gap', async () => {
    const kept = new Set<number>();
    for (let seed = 1; seed <= 30; seed += 1) {
      let struck = false;
      const disk = new SimDisk(new Rng(seed), {}, () => (struck = true));
      const { wal } = disk.open();
      await wal.save({ term: 1, vote: 'a', commit: 0 }, [entry(1)]);
      disk.powerLossArmed = true;
      let resolved = false;
      void wal.save(undefined, [entry(2), entry(3), entry(4)]).then(() => (resolved = true));
      await Promise.resolve();
      expect(struck).toBe(true);
      expect(resolved).toBe(false);
      disk.powerLoss();
      const indexes = disk.open().recovered.entries.map((e) => e.index);
      expect(indexes).toEqual(Array.from({ length: indexes.length }, (_, i) => i + 1));
      kept.add(indexes.length);
    }
    // Every prefix occurs: nothing of the write, part of it, all of it.
    expect([...kept].sort()).toEqual([1, 2, 3, 4]);
  });

  it('fences a dead process: its writes never land and its promises never resolve', async () => {
    const disk = new SimDisk(new Rng(1), {}, () => undefined);
    const first = disk.open();
    disk.powerLoss();
    disk.open();
    let resolved = false;
    void first.wal
      .save({ term: 5, vote: 'b', commit: 0 }, [entry(1, 5)])
      .then(() => (resolved = true));
    await Promise.resolve();
    expect(resolved).toBe(false);
    expect(disk.open().recovered.entries).toEqual([]);
  });

  it('with a broken fsync, loses synced entries at restart and clamps commit', async () => {
    const disk = new SimDisk(new Rng(1), { loseEntriesOnRestart: 2 }, () => undefined);
    const { wal } = disk.open();
    await wal.save(
      { term: 1, vote: 'a', commit: 4 },
      [1, 2, 3, 4].map((i) => entry(i)),
    );
    disk.powerLoss();
    const { recovered } = disk.open();
    expect(recovered.entries.map((e) => e.index)).toEqual([1, 2]);
    expect(recovered.hardState.commit).toBe(2);
  });

  it('compacts what a snapshot marker covers and replays the same log', async () => {
    const disk = new SimDisk(new Rng(1), {}, () => undefined);
    const { wal } = disk.open();
    await wal.save(
      { term: 1, vote: 'a', commit: 5 },
      [1, 2, 3, 4, 5].map((i) => entry(i)),
    );
    await wal.saveSnapshotMarker(3, 1);
    wal.compact(3);
    const { recovered } = disk.open();
    expect(recovered.snapshot).toEqual({ index: 3, term: 1 });
    expect(recovered.entries.map((e) => e.index)).toEqual([4, 5]);
    expect(recovered.hardState.commit).toBe(5);
  });
});
