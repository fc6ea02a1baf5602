import {
  appendFileSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InlineWrites } from '@parley/common';
import { Entry, EntryType } from '@parley/raft';
import { Wal, WalCorruptError, WalOptions } from './wal';

const text = new TextEncoder();
const entry = (index: number, term: number, data = `e${index}`): Entry => ({
  index,
  term,
  type: EntryType.Normal,
  data: text.encode(data),
});

describe('write-ahead log', () => {
  let dir: string;
  let warnings: string[];
  let options: WalOptions;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'parley-wal-'));
    warnings = [];
    options = {
      dir,
      segmentBytesMax: 1 << 20,
      fsync: true,
      logger: { log: () => undefined, warn: (m) => warnings.push(m) },
    };
  });
  /** Every WAL a test opened, closed after it (a replay-only open leaves its handle open). */
  let opened: Wal[];
  const openWal = async (walOptions: WalOptions) => {
    const result = await Wal.open(walOptions);
    opened.push(result.wal);
    return result;
  };
  beforeEach(() => (opened = []));
  afterEach(async () => {
    for (const wal of opened) await wal.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const segmentFiles = () =>
    readdirSync(dir)
      .filter((f) => f.endsWith('.wal'))
      .sort();

  it('replays saved entries and the latest hard state after a restart', async () => {
    const { wal } = await openWal(options);
    await wal.save({ term: 1, vote: 'n1', commit: 0 }, [entry(1, 1), entry(2, 1)]);
    await wal.save({ term: 2, vote: 'n2', commit: 2 }, [entry(3, 2)]);
    await wal.close();
    const { replay } = await openWal(options);
    expect(replay.hardState).toEqual({ term: 2, vote: 'n2', commit: 2 });
    expect(replay.entries.map((e) => [e.index, e.term])).toEqual([
      [1, 1],
      [2, 1],
      [3, 2],
    ]);
    expect(replay.truncated).toBeUndefined();
  });

  it('syncs once per save, however many entries it carries (group commit)', async () => {
    const { wal } = await openWal(options);
    const before = wal.syncs;
    await wal.save(
      { term: 1, vote: '', commit: 0 },
      Array.from({ length: 100 }, (_, i) => entry(i + 1, 1)),
    );
    expect(wal.syncs - before).toBe(1);
    await wal.close();
  });

  it('writes inline while the disk is fast, through the thread pool after a slow write, and replays both', async () => {
    // A clock that moves 1 ms each time it is read, so every write takes 1 ms, over a 0.5 ms
    // limit: the first save goes inline, is slow, and sends the next ones to the thread pool
    // until the clock passes the pause.
    let now = 0;
    const slowDisk = new InlineWrites({ writeMaxMs: 0.5, pauseMs: 1_000, now: () => (now += 1) });
    const { wal } = await openWal({ ...options, inlineWrites: slowDisk });
    for (let i = 1; i <= 3; i += 1)
      await wal.save({ term: 1, vote: 'n1', commit: 0 }, [entry(i, 1)]);
    expect([slowDisk.inline, slowDisk.pooled]).toEqual([1, 2]);
    now = 2_000;
    await wal.save({ term: 1, vote: 'n1', commit: 3 }, [entry(4, 1)]);
    expect([slowDisk.inline, slowDisk.pooled]).toEqual([2, 2]);
    await wal.close();
    const fastDisk = new InlineWrites({ writeMaxMs: Number.MAX_VALUE });
    const { wal: reopened, replay } = await openWal({ ...options, inlineWrites: fastDisk });
    expect(replay.entries.map((e) => e.index)).toEqual([1, 2, 3, 4]);
    await reopened.save({ term: 1, vote: 'n1', commit: 4 }, [entry(5, 1), entry(6, 1)]);
    expect([fastDisk.inline, fastDisk.pooled]).toEqual([1, 0]);
    await reopened.close();
    const again = await openWal(options);
    expect(again.replay.entries.map((e) => e.index)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(again.replay.hardState).toEqual({ term: 1, vote: 'n1', commit: 4 });
  });

  it('syncs a new term or vote but not a commit-only advance, which still replays', async () => {
    const { wal } = await openWal(options);
    await wal.save({ term: 1, vote: 'n1', commit: 0 }, [entry(1, 1)]);
    const afterEntries = wal.syncs;
    await wal.save({ term: 1, vote: 'n1', commit: 1 }, []);
    expect(wal.syncs).toBe(afterEntries);
    await wal.save({ term: 2, vote: 'n1', commit: 1 }, []);
    expect(wal.syncs).toBe(afterEntries + 1);
    await wal.save({ term: 2, vote: 'n2', commit: 1 }, []);
    expect(wal.syncs).toBe(afterEntries + 2);
    await wal.close();
    const { wal: reopened, replay } = await openWal(options);
    expect(replay.hardState).toEqual({ term: 2, vote: 'n2', commit: 1 });
    await reopened.close();
  });

  it('writes a commit-only advance with the next save or at close; a crash before loses only it', async () => {
    const { wal } = await openWal(options);
    for (let i = 1; i <= 50; i += 1) {
      await wal.save({ term: 1, vote: 'n1', commit: i - 1 }, [entry(i, 1)]);
      await wal.save({ term: 1, vote: 'n1', commit: i }, []);
    }
    // What a process killed now leaves: every entry, and the commit of the last write.
    const crashed = await openWal(options);
    expect(crashed.replay.entries.map((e) => e.index)).toEqual(
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
    expect(crashed.replay.hardState).toEqual({ term: 1, vote: 'n1', commit: 49 });
    await crashed.wal.close();
    // The advance rides on the next write...
    await wal.save({ term: 1, vote: 'n1', commit: 50 }, []);
    await wal.save(undefined, [entry(51, 1)]);
    const afterWrite = await openWal(options);
    expect(afterWrite.replay.hardState).toEqual({ term: 1, vote: 'n1', commit: 50 });
    await afterWrite.wal.close();
    // ...or is written at close.
    await wal.save({ term: 1, vote: 'n1', commit: 51 }, []);
    await wal.close();
    const { wal: reopened, replay } = await openWal(options);
    expect(replay.hardState).toEqual({ term: 1, vote: 'n1', commit: 51 });
    expect(replay.entries).toHaveLength(51);
    expect(warnings).toEqual([]);
    await reopened.close();
  });

  it('opens segments with O_DSYNC when it syncs, so a write is durable when it returns', async () => {
    const O_DSYNC = 0o10000; // Linux's value, as /proc/<pid>/fdinfo prints flags (octal)
    const flagsOf = (wal: Wal) => {
      const fd = (wal as unknown as { file: { fd: number } }).file.fd;
      const line = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8').match(/^flags:\s+(\d+)/m);
      return parseInt(line![1], 8);
    };
    const synced = await openWal(options);
    expect(flagsOf(synced.wal) & O_DSYNC).toBe(O_DSYNC);
    await synced.wal.close();
    const unsynced = await openWal({ ...options, fsync: false });
    expect(flagsOf(unsynced.wal) & O_DSYNC).toBe(0);
    await unsynced.wal.close();
  });

  it('keeps the last write for an index: a new leader overwrites an uncommitted suffix', async () => {
    const { wal } = await openWal(options);
    await wal.save(undefined, [entry(1, 1), entry(2, 1, 'old'), entry(3, 1, 'old')]);
    await wal.save(undefined, [entry(2, 2, 'new')]);
    await wal.close();
    const { replay } = await openWal(options);
    expect(replay.entries.map((e) => new TextDecoder().decode(e.data))).toEqual(['e1', 'new']);
  });

  it('detects a torn last record by checksum, truncates it and says what was dropped', async () => {
    const { wal } = await openWal(options);
    await wal.save(undefined, [entry(1, 1), entry(2, 1)]);
    await wal.close();
    const file = join(dir, segmentFiles()[0]);
    const fullSize = statSync(file).size;
    // A crash mid-write leaves half a record.
    appendFileSync(file, Buffer.from([0, 0, 0, 40, 1, 2, 3, 4, 1, 0, 0]));
    const { replay, wal: reopened } = await openWal(options);
    expect(replay.entries.map((e) => e.index)).toEqual([1, 2]);
    expect(replay.truncated?.offset).toBe(fullSize);
    expect(warnings.join('\n')).toContain('dropping a torn tail of 11 bytes');
    expect(statSync(file).size).toBe(fullSize);
    // The log keeps working after the truncation.
    await reopened.save(undefined, [entry(3, 1)]);
    await reopened.close();
    const again = await openWal(options);
    expect(again.replay.entries.map((e) => e.index)).toEqual([1, 2, 3]);
    await again.wal.close();
  });

  it('never applies a last record whose checksum fails', async () => {
    const { wal } = await openWal(options);
    await wal.save(undefined, [entry(1, 1), entry(2, 1, 'precious')]);
    await wal.close();
    const file = join(dir, segmentFiles()[0]);
    const bytes = readFileSync(file);
    bytes[bytes.length - 2] ^= 0xff; // flip a bit inside the last record's data
    writeFileSync(file, bytes);
    const { replay, wal: reopened } = await openWal(options);
    expect(replay.entries.map((e) => e.index)).toEqual([1]);
    expect(replay.truncated?.reason).toBe('checksum mismatch');
    await reopened.close();
  });

  it('refuses to start on corruption in the middle of the log', async () => {
    const { wal } = await openWal(options);
    await wal.save(undefined, [entry(1, 1, 'first-record-data'), entry(2, 1), entry(3, 1)]);
    await wal.close();
    const file = join(dir, segmentFiles()[0]);
    const bytes = readFileSync(file);
    bytes[8 + 8 + 20] ^= 0xff; // inside the first record's body
    writeFileSync(file, bytes);
    await expect(openWal(options)).rejects.toThrow(WalCorruptError);
    await expect(openWal(options)).rejects.toThrow(/corruption in the middle of the log/);
  });

  it.each([
    ['past the end of the file', 0x00ffffff],
    ['of zero bytes', 0],
  ])(
    'refuses to start when a damaged length (%s) in the last segment has whole records after it',
    async (_, length) => {
      const { wal } = await openWal(options);
      await wal.save(undefined, [entry(1, 1), entry(2, 1, 'acknowledged'), entry(3, 1, 'too')]);
      await wal.close();
      const file = join(dir, segmentFiles()[0]);
      const bytes = readFileSync(file);
      const second = 8 + 8 + bytes.readUInt32BE(8); // magic, then the first record
      bytes.writeUInt32BE(length, second);
      writeFileSync(file, bytes);
      // Read as a torn tail, entries 2 and 3 (fsynced, acknowledged) would be cut away.
      await expect(openWal(options)).rejects.toThrow(/corruption in the middle of the log/);
      expect(readFileSync(file).equals(bytes)).toBe(true);
    },
  );

  it('refuses a file that is not a WAL segment', async () => {
    const { wal } = await openWal(options);
    await wal.save(undefined, [entry(1, 1)]);
    await wal.close();
    writeFileSync(join(dir, segmentFiles()[0]), 'this is not a wal at all');
    await expect(openWal(options)).rejects.toThrow(/bad magic/);
  });

  it('rotates segments and deletes the ones a snapshot covers', async () => {
    const { wal } = await openWal({ ...options, segmentBytesMax: 200 });
    for (let i = 1; i <= 20; i += 1)
      await wal.save({ term: 1, vote: 'n1', commit: i - 1 }, [entry(i, 1, 'x'.repeat(40))]);
    expect(segmentFiles().length).toBeGreaterThan(3);
    await wal.saveSnapshotMarker(15, 1);
    const removed = wal.compact(15);
    expect(removed).toBeGreaterThan(0);
    await wal.close();
    const { replay } = await openWal({ ...options, segmentBytesMax: 200 });
    expect(replay.snapshot).toEqual({ index: 15, term: 1 });
    expect(replay.entries.map((e) => e.index)).toEqual([16, 17, 18, 19, 20]);
    expect(replay.hardState.commit).toBe(19);
  });

  it('a snapshot marker restarts the log after the snapshot index', async () => {
    const { wal } = await openWal(options);
    await wal.save(undefined, [entry(1, 1), entry(2, 1)]);
    await wal.saveSnapshotMarker(10, 3); // installed from the leader
    await wal.save(undefined, [entry(11, 3)]);
    await wal.close();
    const { replay } = await openWal(options);
    expect(replay.snapshot).toEqual({ index: 10, term: 3 });
    expect(replay.entries.map((e) => e.index)).toEqual([11]);
  });

  it('reads entries in place, and copies the few a snapshot leaves so the segment can go', async () => {
    const { wal } = await openWal(options);
    await wal.save(undefined, [entry(1, 1), entry(2, 1), entry(3, 1)]);
    await wal.close();
    const whole = (await openWal(options)).replay.entries;
    // Most of what was read is kept: views into the segment's buffer, not a copy each.
    expect(whole.map((e) => new TextDecoder().decode(e.data))).toEqual(['e1', 'e2', 'e3']);
    expect(whole.every((e) => e.data.buffer.byteLength > e.data.byteLength)).toBe(true);
    const { wal: again } = await openWal(options);
    await again.saveSnapshotMarker(2, 1);
    await again.close();
    const tail = (await openWal(options)).replay.entries;
    expect(tail.map((e) => new TextDecoder().decode(e.data))).toEqual(['e3']);
    expect(tail[0].data.buffer.byteLength).toBe(tail[0].data.byteLength);
  });

  it('refuses a log with a gap between entries', async () => {
    const { wal } = await openWal(options);
    await wal.save(undefined, [entry(1, 1), entry(3, 1)]);
    await wal.close();
    await expect(openWal(options)).rejects.toThrow(/gap/);
  });
});
