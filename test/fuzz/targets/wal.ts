import { deepStrictEqual } from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { ByteWriter, crc32c } from '@parley/common';
import { EMPTY_HARD_STATE, Entry, EntryType, HardState } from '@parley/raft';
import { Wal, WalCorruptError, WalReplay } from '../../../apps/command-log/src/wal/wal';
import {
  RECORD_HEADER_BYTES,
  WalRecord,
  WalRecordKind,
  encodeRecord,
  parseRecord,
} from '../../../apps/command-log/src/wal/wal-record';
import { FuzzTarget, ensure } from '../harness';
import { ByteMutation, applyMutations, binaryInputs, concat, hex, mutations } from '../mutators';

/**
 * The command-log write-ahead log read back from damaged disks: record parsing on arbitrary
 * bytes, and whole-directory replay of valid logs with torn tails, flipped bits, inserted
 * garbage, huge length fields, foreign files, and records whose checksum was recomputed after
 * the damage (so the body decoder itself is reached). Replay must answer entries that were
 * really written, report what it dropped, or refuse with WalCorruptError; nothing else.
 */
const MAGIC = Buffer.from('PRLYWAL1', 'ascii');
const u53 = fc.oneof(
  fc.integer({ min: 0, max: 100 }),
  fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
);

const walRecord: fc.Arbitrary<WalRecord> = fc.oneof(
  fc.record({
    kind: fc.constant(WalRecordKind.Entry as const),
    entry: fc.record({
      term: u53,
      index: u53,
      type: fc.constantFrom(EntryType.Normal, EntryType.ConfChange),
      data: fc.uint8Array({ maxLength: 32 }),
    }),
  }),
  fc.record({
    kind: fc.constant(WalRecordKind.HardState as const),
    hardState: fc.record({ term: u53, vote: fc.stringMatching(/^[a-z0-9-]{0,12}$/), commit: u53 }),
  }),
  fc.record({ kind: fc.constant(WalRecordKind.Snapshot as const), index: u53, term: u53 }),
);

function encodeRecords(records: readonly WalRecord[]): Uint8Array {
  const out = new ByteWriter();
  for (const record of records) encodeRecord(record, out);
  return new Uint8Array(out.finish());
}

/** A record whose body was damaged and whose length and checksum were then made to match. */
function resealedRecord(record: WalRecord, edits: readonly ByteMutation[]): Uint8Array {
  const encoded = encodeRecords([record]);
  const body = applyMutations(encoded.subarray(RECORD_HEADER_BYTES), edits);
  const header = new ByteWriter(8).u32(body.length).u32(crc32c(body)).finish();
  return concat(header, body);
}

export interface RecordFile {
  bytes: Uint8Array;
  /** Encodings of the records as written; undefined when a checksum was recomputed. */
  written: Set<string> | undefined;
}

const recordFile: fc.Arbitrary<RecordFile> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.array(walRecord, { maxLength: 6 }).chain((records) =>
      binaryInputs(fc.constant(encodeRecords(records))).map((bytes) => ({
        bytes,
        written: new Set(records.map((r) => hex(encodeRecords([r])))),
      })),
    ),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.array(walRecord, { maxLength: 3 }),
        walRecord,
        mutations,
        fc.array(walRecord, { maxLength: 3 }),
      )
      .map(([before, damaged, edits, after]) => ({
        bytes: concat(encodeRecords(before), resealedRecord(damaged, edits), encodeRecords(after)),
        written: undefined,
      })),
  },
);

/** Walks a file the way replay does; every answer must be one of the three documented ones. */
function parseAll({ bytes, written }: RecordFile): void {
  let offset = 0;
  while (offset < bytes.length) {
    const parsed = parseRecord(bytes, offset);
    if (parsed.status === 'truncated') {
      ensure(parsed.reason.length > 0, 'a truncation without a reason');
      return;
    }
    if (parsed.status === 'corrupt') {
      ensure(parsed.reason.length > 0, 'a corruption without a reason');
      ensure(
        parsed.end > offset && parsed.end <= bytes.length,
        `corrupt record end ${parsed.end} out of the file`,
      );
      return;
    }
    ensure(
      parsed.end > offset && parsed.end <= bytes.length,
      `record end ${parsed.end} out of the file`,
    );
    checkRecord(parsed.record);
    const encoded = hex(encodeRecords([parsed.record]));
    // The checksum guarantees it: a record that parses is byte for byte one that was written.
    ensure(
      encoded === hex(bytes.subarray(offset, parsed.end)),
      'a parsed record does not re-encode to its bytes',
    );
    if (written) ensure(written.has(encoded), 'a record was parsed that was never written');
    offset = parsed.end;
  }
}

function checkRecord(record: WalRecord): void {
  const natural = (n: number) => Number.isSafeInteger(n) && n >= 0;
  if (record.kind === WalRecordKind.Entry) {
    const { entry } = record;
    ensure(natural(entry.term) && natural(entry.index), 'an entry with a bad term or index');
    ensure(
      entry.type === EntryType.Normal || entry.type === EntryType.ConfChange,
      'an unknown entry type',
    );
  } else if (record.kind === WalRecordKind.HardState) {
    const { hardState } = record;
    ensure(
      natural(hardState.term) && natural(hardState.commit),
      'a hard state with a bad term or commit',
    );
    ensure(Buffer.byteLength(hardState.vote) <= 64, 'a vote longer than 64 bytes');
  } else {
    ensure(
      record.kind === WalRecordKind.Snapshot,
      `an unknown record kind ${String((record as WalRecord).kind)}`,
    );
    ensure(
      natural(record.index) && natural(record.term),
      'a snapshot marker with a bad index or term',
    );
  }
}

export const walRecordTarget: FuzzTarget<{ file: RecordFile; offset: number }> = {
  name: 'wal-record',
  arbitrary: fc.record({ file: recordFile, offset: fc.nat() }),
  execute({ file, offset }) {
    parseAll(file);
    // Any offset, not only record boundaries: still one of the three answers, never a throw.
    const at = offset % (file.bytes.length + 1);
    const parsed = parseRecord(file.bytes, at);
    ensure(
      ['ok', 'truncated', 'corrupt'].includes(parsed.status),
      `unknown status ${parsed.status}`,
    );
  },
};

/* --------------------------------------------------------------------------------------------
 * Replay of a whole WAL directory.
 * ------------------------------------------------------------------------------------------ */

/** One step of a valid history, as Wal.save and saveSnapshotMarker would write it. */
type Step =
  | { kind: 'append'; count: number; term: number }
  | { kind: 'overwrite'; back: number; count: number; term: number }
  | { kind: 'hard-state'; term: number; vote: string; commit: number }
  | { kind: 'snapshot'; ahead: number; term: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('append' as const),
      count: fc.integer({ min: 1, max: 4 }),
      term: fc.integer({ min: 1, max: 5 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('overwrite' as const),
      back: fc.nat({ max: 4 }),
      count: fc.integer({ min: 1, max: 3 }),
      term: fc.integer({ min: 1, max: 5 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('hard-state' as const),
      term: fc.integer({ min: 0, max: 5 }),
      vote: fc.constantFrom('', 'n1', 'n2'),
      commit: fc.nat({ max: 20 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('snapshot' as const),
      ahead: fc.integer({ min: -3, max: 5 }),
      term: fc.integer({ min: 1, max: 5 }),
    }),
  },
);

interface History {
  records: WalRecord[];
  expected: Pick<WalReplay, 'hardState' | 'entries' | 'snapshot'>;
}

/** Turns steps into records and the replay a correct WAL must give for them. */
function history(steps: readonly Step[]): History {
  const records: WalRecord[] = [];
  const log = new Map<number, Entry>();
  let last = 0;
  let floor = 0;
  let snapshot: { index: number; term: number } | undefined;
  let hardState: HardState = EMPTY_HARD_STATE;
  const write = (start: number, count: number, term: number) => {
    for (let index = start; index <= last; index += 1) log.delete(index);
    for (let index = start; index < start + count; index += 1) {
      const entry = {
        index,
        term,
        type: EntryType.Normal,
        data: new TextEncoder().encode(`e${index}t${term}`),
      };
      log.set(index, entry);
      records.push({ kind: WalRecordKind.Entry, entry });
    }
    last = start + count - 1;
  };
  for (const s of steps) {
    if (s.kind === 'append') write(last + 1, s.count, s.term);
    else if (s.kind === 'overwrite') write(Math.max(floor + 1, last - s.back), s.count, s.term);
    else if (s.kind === 'hard-state') {
      hardState = { term: s.term, vote: s.vote, commit: s.commit };
      records.push({ kind: WalRecordKind.HardState, hardState });
    } else {
      const index = Math.max(floor + 1, last + s.ahead);
      floor = index;
      snapshot = { index, term: s.term };
      last = Math.max(last, index);
      for (const k of [...log.keys()]) if (k <= index) log.delete(k);
      records.push({ kind: WalRecordKind.Snapshot, index, term: s.term });
    }
  }
  const entries = [...log.values()].sort((a, b) => a.index - b.index);
  return { records, expected: { hardState, entries, snapshot } };
}

type Damage =
  | { kind: 'none' }
  | { kind: 'bytes'; edits: ByteMutation[] }
  | { kind: 'reseal'; record: number; edits: ByteMutation[] }
  | { kind: 'foreign'; bytes: Uint8Array };

export interface WalDirectory {
  steps: Step[];
  /** Where the second segment starts (records before it go to the first); 0 = one segment. */
  split: number;
  /** Which segment is damaged: 0 or 1 (the last when there is one). */
  damaged: number;
  damage: Damage;
}

const damage: fc.Arbitrary<Damage> = fc.oneof(
  { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('bytes' as const), edits: mutations }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('reseal' as const),
      record: fc.nat(),
      edits: mutations,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('foreign' as const),
      bytes: fc.uint8Array({ maxLength: 64 }),
    }),
  },
);

const walDirectory: fc.Arbitrary<WalDirectory> = fc.record({
  steps: fc.array(step, { minLength: 1, maxLength: 12 }),
  split: fc.nat(),
  damaged: fc.nat({ max: 1 }),
  damage,
});

const segmentName = (seq: number, firstIndex: number) =>
  `${String(seq).padStart(16, '0')}-${String(firstIndex).padStart(16, '0')}.wal`;

function segmentBytes(
  records: readonly WalRecord[],
  damage: Damage,
): { bytes: Uint8Array; resealed: boolean } {
  if (damage.kind === 'foreign') return { bytes: damage.bytes, resealed: false };
  if (damage.kind === 'reseal' && records.length > 0) {
    const at = damage.record % records.length;
    const bytes = concat(
      MAGIC,
      encodeRecords(records.slice(0, at)),
      resealedRecord(records[at], damage.edits),
      encodeRecords(records.slice(at + 1)),
    );
    return { bytes, resealed: true };
  }
  const bytes = concat(MAGIC, encodeRecords(records));
  return {
    bytes: damage.kind === 'bytes' ? applyMutations(bytes, damage.edits) : bytes,
    resealed: false,
  };
}

const quietLogger = (warnings: string[]) => ({
  log: () => undefined,
  warn: (m: string) => warnings.push(m),
});

async function replayDirectory(input: WalDirectory): Promise<void> {
  const { records, expected } = history(input.steps);
  const split = input.split % (records.length + 1);
  const segments = split === 0 ? [records] : [records.slice(0, split), records.slice(split)];
  const damagedSegment = Math.min(input.damaged, segments.length - 1);
  const dir = mkdtempSync(join(tmpdir(), 'parley-fuzz-wal-'));
  try {
    let resealed = false;
    const names: string[] = [];
    segments.forEach((segmentRecords, i) => {
      const firstRecord = segmentRecords.find((r) => r.kind === WalRecordKind.Entry);
      const name = segmentName(
        i + 1,
        i === 0 ? 0 : firstRecord?.kind === WalRecordKind.Entry ? firstRecord.entry.index : 0,
      );
      const { bytes, resealed: wasResealed } = segmentBytes(
        segmentRecords,
        i === damagedSegment ? input.damage : { kind: 'none' },
      );
      resealed ||= wasResealed;
      writeFileSync(join(dir, name), bytes);
      names.push(name);
    });
    const warnings: string[] = [];
    const options = { dir, segmentBytesMax: 1 << 20, fsync: false, logger: quietLogger(warnings) };
    let replay: WalReplay;
    try {
      const opened = await Wal.open(options);
      await opened.wal.close();
      replay = opened.replay;
    } catch (error) {
      if (error instanceof WalCorruptError) {
        ensure(input.damage.kind !== 'none', `an undamaged WAL was refused: ${error.message}`);
        return;
      }
      throw error;
    }
    checkReplay(replay, records, resealed);
    if (input.damage.kind === 'none') {
      deepStrictEqual(
        { ...comparable(replay), truncated: replay.truncated },
        { ...comparable(expected), truncated: undefined },
        'an undamaged WAL did not replay to what was written',
      );
    }
    if (replay.truncated) {
      ensure(
        warnings.length > 0 || replay.truncated.reason === 'torn segment header',
        'a repair was not logged',
      );
      const path = join(dir, replay.truncated.segment);
      // A torn segment is deleted; when it was the only one, a fresh one takes its name.
      if (replay.truncated.reason === 'torn segment header')
        ensure(
          !existsSync(path) || readFileSync(path).subarray(0, MAGIC.length).equals(MAGIC),
          'a torn segment was kept',
        );
      else
        ensure(
          statSync(path).size === replay.truncated.offset,
          'the torn tail was not cut at the reported offset',
        );
    }
    // Recovery converges: the repaired log opens again to the same state, with nothing to cut.
    const again = await Wal.open({ ...options, logger: quietLogger([]) });
    await again.wal.close();
    deepStrictEqual(
      comparable(again.replay),
      comparable(replay),
      'a second open of a repaired WAL replays differently',
    );
    ensure(again.replay.truncated === undefined, 'a second open of a repaired WAL cut it again');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Replay as plain data (entry bytes as hex: the WAL hands out Buffers). */
function comparable(replay: Pick<WalReplay, 'hardState' | 'entries' | 'snapshot'>) {
  return {
    hardState: replay.hardState,
    entries: replay.entries.map((e) => ({
      index: e.index,
      term: e.term,
      type: e.type,
      data: hex(e.data),
    })),
    snapshot: replay.snapshot,
  };
}

function checkReplay(replay: WalReplay, records: readonly WalRecord[], resealed: boolean): void {
  const floor = replay.snapshot?.index ?? 0;
  replay.entries.forEach((entry, i) => {
    ensure(entry.index === floor + 1 + i, `replayed entries are not contiguous after ${floor}`);
  });
  if (resealed) return; // a recomputed checksum makes the damaged record "written" by definition
  // Nothing but what was written comes back: a damaged record is never applied.
  const written = new Set(records.map((r) => hex(encodeRecords([r]))));
  for (const entry of replay.entries)
    ensure(
      written.has(hex(encodeRecords([{ kind: WalRecordKind.Entry, entry }]))),
      `entry ${entry.index} was never written`,
    );
  if (replay.snapshot)
    ensure(
      written.has(hex(encodeRecords([{ kind: WalRecordKind.Snapshot, ...replay.snapshot }]))),
      'a snapshot marker that was never written',
    );
  if (replay.hardState !== EMPTY_HARD_STATE)
    ensure(
      written.has(
        hex(encodeRecords([{ kind: WalRecordKind.HardState, hardState: replay.hardState }])),
      ),
      'a hard state that was never written',
    );
}

export const walReplayTarget: FuzzTarget<WalDirectory> = {
  name: 'wal-replay',
  io: true,
  arbitrary: walDirectory,
  execute: replayDirectory,
};
