import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeltaLog, jsonSlices } from './delta-log';
import { InlineWrites } from '@parley/common';

const FILES = { log: 'test.log', snapshot: 'test.json' };

describe('jsonSlices', () => {
  it('joins to exactly what JSON.stringify gives, cut member by member two levels down', () => {
    const values: unknown[] = [
      { pending: [{ a: 1 }, { b: [2, 3] }], decided: [], gone: undefined, f: () => 1 },
      [1, undefined, 'x', { y: null }, () => 2],
      Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`k${i}`, { v: i }])),
      Array.from({ length: 25 }, (_, i) => i),
      {},
      [],
      'text',
      7,
      null,
      { toJSON: () => ({ replaced: true }) },
      new Date(0),
      { deep: { deeper: { deepest: [1, undefined, { x: undefined }] } }, list: [[1], { a: [2] }] },
    ];
    for (const value of values)
      for (const depth of [0, 1, 2, 3])
        expect([...jsonSlices(value, depth)].join('')).toBe(JSON.stringify(value));
    // {decided: [25 answers]}: braces, the key, brackets, and each answer on its own.
    const slices = [...jsonSlices({ decided: Array.from({ length: 25 }, (_, i) => ({ i })) })];
    expect(slices.length).toBe(2 + 1 + 2 + 2 * 25);
  });
});

describe('DeltaLog.snapshot', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'parley-delta-log-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('does not hold appends back while a large snapshot is written, and keeps them after it', async () => {
    const { log } = await DeltaLog.open(dir, true, FILES);
    for (let i = 0; i < 10; i += 1) await log.append({ before: i });
    // ~10 MB of state: serialized and written in many slices.
    const state = {
      decided: Array.from({ length: 50_000 }, (_, i) => ({ id: `r-${i}`, body: 'x'.repeat(180) })),
    };
    let snapshotDone = false;
    const during = [{ during: 1 }, { during: 2 }];
    let appended: Promise<unknown> = Promise.resolve();
    const snapshot = log
      .snapshot(() => {
        // Appended just as the state is captured: written while the snapshot file is.
        appended = Promise.all(during.map((record) => log.append(record)));
        return state;
      })
      .then(() => (snapshotDone = true));
    await new Promise((resolve) => setImmediate(resolve));
    // Durable before the 10 MB snapshot is done (they used to wait for all of it).
    await appended;
    expect(snapshotDone).toBe(false);
    await snapshot;
    expect(log.appendedSinceSnapshot).toBe(2);
    await log.append({ after: 1 });
    await log.close();

    const { log: reopened, replay } = await DeltaLog.open(dir, true, FILES);
    expect(replay.snapshot).toEqual(state);
    // Exactly what came after the state was captured, once, in order.
    expect(replay.records).toEqual([...during, { after: 1 }]);
    await reopened.close();
  }, 60_000);

  it('empties the log when nothing came during the snapshot, and takes snapshots one at a time', async () => {
    const { log } = await DeltaLog.open(dir, true, FILES);
    await log.append({ a: 1 });
    await Promise.all([log.snapshot(() => ({ n: 1 })), log.snapshot(() => ({ n: 2 }))]);
    expect(log.appendedSinceSnapshot).toBe(0);
    expect(readFileSync(join(dir, FILES.log)).length).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, FILES.snapshot), 'utf8'))).toEqual({ n: 2 });
    await log.close();
  });
});

describe('DeltaLog durability', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'parley-delta-log-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** The log file's open flags, as /proc/self/fdinfo prints them (octal). */
  const flagsOf = (log: DeltaLog) => {
    const fd = (log as unknown as { file: { fd: number } }).file.fd;
    const line = /^flags:\s+(\d+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
    return parseInt(line![1], 8);
  };
  const O_DSYNC = 0o10000; // Linux's value

  it('appends with O_DSYNC when it syncs (an answered write is on disk), also after a snapshot', async () => {
    const { log } = await DeltaLog.open(dir, true, FILES);
    expect(flagsOf(log) & O_DSYNC).toBe(O_DSYNC);
    await log.append({ a: 1 });
    expect(log.syncs).toBe(1);
    await log.append({ a: 2 });
    // A snapshot with a record after its cut reopens the log it rewrote.
    const appended = log.append({ a: 3 });
    await Promise.all([log.snapshot(() => ({ state: 2 })), appended]);
    expect(flagsOf(log) & O_DSYNC).toBe(O_DSYNC);
    await log.close();
    const reopened = await DeltaLog.open(dir, false, FILES);
    expect(flagsOf(reopened.log) & O_DSYNC).toBe(0);
    expect(reopened.replay.snapshot).toEqual({ state: 2 });
    await reopened.log.close();
  });

  it('gathers the appends of one event-loop turn into one durable write', async () => {
    const { log } = await DeltaLog.open(dir, true, FILES);
    await Promise.all(Array.from({ length: 10 }, (_, i) => log.append({ i })));
    expect(log.syncs).toBe(1);
    await log.close();
    const { replay } = await DeltaLog.open(dir, false, FILES);
    expect(replay.records).toEqual(Array.from({ length: 10 }, (_, i) => ({ i })));
  });

  it('writes inline while the disk is fast, through the thread pool after a slow write, and keeps every record either way', async () => {
    // A clock that moves 1 ms each time it is read, so every write takes 1 ms, over a 0.5 ms
    // limit: the first write goes inline, is slow, and sends the next ones to the thread pool
    // until the clock passes the pause.
    let now = 0;
    const slowDisk = new InlineWrites({ writeMaxMs: 0.5, pauseMs: 1_000, now: () => (now += 1) });
    const { log } = await DeltaLog.open(dir, true, FILES, slowDisk);
    for (let i = 0; i < 3; i += 1) await log.append({ i });
    expect([slowDisk.inline, slowDisk.pooled]).toEqual([1, 2]);
    now = 2_000;
    await log.append({ i: 3 });
    expect([slowDisk.inline, slowDisk.pooled]).toEqual([2, 2]);
    await log.close();
    // A fast disk: every small write inline.
    const fastDisk = new InlineWrites({ writeMaxMs: Number.MAX_VALUE });
    const reopened = await DeltaLog.open(dir, true, FILES, fastDisk);
    expect(reopened.replay.records).toEqual([{ i: 0 }, { i: 1 }, { i: 2 }, { i: 3 }]);
    for (let i = 4; i < 8; i += 1) await reopened.log.append({ i });
    expect([fastDisk.inline, fastDisk.pooled]).toEqual([4, 0]);
    await reopened.log.close();
    const { replay } = await DeltaLog.open(dir, false, FILES);
    expect(replay.records).toEqual(Array.from({ length: 8 }, (_, i) => ({ i })));
  });
});
