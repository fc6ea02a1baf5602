import { Entry, EntryType, HardState } from '@parley/raft';
import { ByteReader, ByteWriter, DecodeError } from '@parley/common';
import { crc32c } from '@parley/common';

/**
 * One WAL record on disk: [u32 length][u32 crc32c of body][body], body = [u8 kind][fields].
 * The checksum covers the kind and fields, so a torn or flipped record is always detected.
 */
export enum WalRecordKind {
  Entry = 1,
  HardState = 2,
  /** Entries at or below `index` live in a snapshot; the log restarts after it. */
  Snapshot = 3,
}

export type WalRecord =
  | { kind: WalRecordKind.Entry; entry: Entry }
  | { kind: WalRecordKind.HardState; hardState: HardState }
  | { kind: WalRecordKind.Snapshot; index: number; term: number };

export const RECORD_HEADER_BYTES = 8;
export const RECORD_BODY_BYTES_MAX = 64 * 1024 * 1024;

export function encodeRecord(record: WalRecord, out: ByteWriter): void {
  const body = new ByteWriter(
    record.kind === WalRecordKind.Entry ? record.entry.data.length + 32 : 64,
  );
  body.u8(record.kind);
  switch (record.kind) {
    case WalRecordKind.Entry:
      body
        .u53(record.entry.term)
        .u53(record.entry.index)
        .u8(record.entry.type)
        .bytes(record.entry.data);
      break;
    case WalRecordKind.HardState:
      body.u53(record.hardState.term).string(record.hardState.vote).u53(record.hardState.commit);
      break;
    case WalRecordKind.Snapshot:
      body.u53(record.index).u53(record.term);
      break;
  }
  const bytes = body.finish();
  out.u32(bytes.length).u32(crc32c(bytes)).raw(bytes);
}

export type ParsedRecord =
  | { status: 'ok'; record: WalRecord; end: number }
  /** Not enough bytes for the record: a torn write if it is the file's tail. */
  | { status: 'truncated'; reason: string }
  | { status: 'corrupt'; reason: string; end: number };

/** Parses the record at `offset`; never throws on bad bytes. */
export function parseRecord(file: Uint8Array, offset: number): ParsedRecord {
  const remaining = file.length - offset;
  if (remaining < RECORD_HEADER_BYTES)
    return { status: 'truncated', reason: `${remaining} bytes of a record header` };
  // Read by hand, not through a DataView or ByteReader: a replay parses a million records.
  const length = u32At(file, offset);
  const checksum = u32At(file, offset + 4);
  if (length === 0 || length > RECORD_BODY_BYTES_MAX) {
    return { status: 'corrupt', reason: `record length ${length} out of range`, end: file.length };
  }
  const end = offset + RECORD_HEADER_BYTES + length;
  if (end > file.length)
    return {
      status: 'truncated',
      reason: `record of ${length} bytes cut at ${file.length - offset - 8}`,
    };
  // A plain view: `subarray` of the Buffer a file is read into makes another Buffer, slower.
  const body = new Uint8Array(file.buffer, file.byteOffset + offset + RECORD_HEADER_BYTES, length);
  if (crc32c(body) !== checksum) return { status: 'corrupt', reason: 'checksum mismatch', end };
  try {
    return { status: 'ok', record: decodeBody(body), end };
  } catch (error) {
    if (error instanceof DecodeError) return { status: 'corrupt', reason: error.message, end };
    throw error;
  }
}

function u32At(bytes: Uint8Array, at: number): number {
  return ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
}

function u53At(bytes: Uint8Array, at: number, what: string): number {
  const high = u32At(bytes, at);
  if (high > 0x1fffff) throw new DecodeError(`${what} exceeds 2^53`);
  return high * 0x100000000 + u32At(bytes, at + 4);
}

/** kind, term, index, type, data length. */
const ENTRY_FIXED_BYTES = 1 + 8 + 8 + 1 + 4;

/**
 * An entry record, read in place (the common record: a replay reads a million). Its data is a
 * view into the segment's bytes, not a copy: a copy per entry was a small off-heap allocation
 * each, most of the replay's garbage collection. The segment's buffer lives as long as one of
 * its entries does, which the log keeps until a snapshot covers them anyway.
 */
function decodeEntry(body: Uint8Array): WalRecord {
  if (body.length < ENTRY_FIXED_BYTES)
    throw new DecodeError(`truncated input reading an entry record of ${body.length} bytes`);
  const term = u53At(body, 1, 'term');
  const index = u53At(body, 9, 'index');
  const type = body[17];
  if (type !== EntryType.Normal && type !== EntryType.ConfChange)
    throw new DecodeError(`unknown entry type ${type}`);
  const length = u32At(body, 18);
  if (length !== body.length - ENTRY_FIXED_BYTES)
    throw new DecodeError(
      length > body.length - ENTRY_FIXED_BYTES
        ? `truncated input reading entry data of ${length} bytes`
        : `${body.length - ENTRY_FIXED_BYTES - length} trailing bytes after entry record`,
    );
  const data = new Uint8Array(body.buffer, body.byteOffset + ENTRY_FIXED_BYTES, length);
  return { kind: WalRecordKind.Entry, entry: { term, index, type, data } };
}

function decodeBody(body: Uint8Array): WalRecord {
  if (body[0] === WalRecordKind.Entry) return decodeEntry(body);
  const r = new ByteReader(body);
  const kind = r.u8('record kind');
  switch (kind) {
    case WalRecordKind.HardState: {
      const term = r.u53('term');
      const vote = r.string('vote', 64);
      const commit = r.u53('commit');
      r.end('hard state record');
      return { kind, hardState: { term, vote, commit } };
    }
    case WalRecordKind.Snapshot: {
      const index = r.u53('snapshot index');
      const term = r.u53('snapshot term');
      r.end('snapshot record');
      return { kind, index, term };
    }
    default:
      throw new DecodeError(`unknown record kind ${kind}`);
  }
}
