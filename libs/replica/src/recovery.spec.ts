import { EMPTY_CONF_STATE, Entry, EntryType, MemoryStorage, Snapshot } from '@parley/raft';
import { recoverLog } from './recovery';

const entry = (index: number, term = 1): Entry => ({
  index,
  term,
  type: EntryType.Normal,
  data: new Uint8Array([index]),
});
const snapshotAt = (index: number): Snapshot => ({
  meta: { index, term: 1, confState: { ...EMPTY_CONF_STATE, voters: ['a'] } },
  data: new Uint8Array(),
});

describe('recoverLog', () => {
  it('sees a first start when nothing is on disk', () => {
    const storage = new MemoryStorage();
    const recovered = recoverLog(
      storage,
      { hardState: { term: 0, vote: '', commit: 0 }, entries: [], snapshot: undefined },
      undefined,
    );
    expect(recovered).toEqual({ snapshotIndex: 0, commit: 0, fresh: true });
  });

  it('refuses to start when the WAL marks a snapshot the store does not hold', () => {
    const log = {
      hardState: { term: 2, vote: 'a', commit: 10 },
      entries: [entry(11)],
      snapshot: { index: 10, term: 1 },
    };
    expect(() => recoverLog(new MemoryStorage(), log, snapshotAt(5))).toThrow(
      /entries up to 10 are in a snapshot, but the newest stored snapshot is 5/,
    );
    expect(() => recoverLog(new MemoryStorage(), log, undefined)).toThrow(/missing/);
  });

  it('takes the commit from a newer snapshot when the unsynced commit was lost', () => {
    const storage = new MemoryStorage();
    const recovered = recoverLog(
      storage,
      {
        hardState: { term: 2, vote: 'a', commit: 3 },
        entries: [4, 5, 6, 7, 8].map((i) => entry(i)),
        snapshot: undefined,
      },
      snapshotAt(6),
    );
    expect(recovered).toEqual({ snapshotIndex: 6, commit: 6, fresh: false });
    expect(storage.getHardState()).toEqual({ term: 2, vote: 'a', commit: 6 });
    // The entries the snapshot covers are not appended again; the rest follow it.
    expect(storage.firstIndex()).toBe(7);
    expect(storage.lastIndex()).toBe(8);
  });
});
