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
  const view = new DataView(file.buffer, file.byteOffset + offset, RECORD_HEADER_BYTES);
  const length = view.getUint32(0);
  const checksum = view.getUint32(4);
  if (length === 0 || length > RECORD_BODY_BYTES_MAX) {
    return { status: 'corrupt', reason: `record length ${length} out of range`, end: file.length };
  }
  const end = offset + RECORD_HEADER_BYTES + length;
  if (end > file.length)
    return {
      status: 'truncated',
      reason: `record of ${length} bytes cut at ${file.length - offset - 8}`,
    };
  const body = file.subarray(offset + RECORD_HEADER_BYTES, end);
  if (crc32c(body) !== checksum) return { status: 'corrupt', reason: 'checksum mismatch', end };
  try {
    return { status: 'ok', record: decodeBody(body), end };
  } catch (error) {
    if (error instanceof DecodeError) return { status: 'corrupt', reason: error.message, end };
    throw error;
  }
}

function decodeBody(body: Uint8Array): WalRecord {
  const r = new ByteReader(body);
  const kind = r.u8('record kind');
  switch (kind) {
    case WalRecordKind.Entry: {
      const term = r.u53('term');
      const index = r.u53('index');
      const type = r.u8('entry type');
      if (type !== EntryType.Normal && type !== EntryType.ConfChange)
        throw new DecodeError(`unknown entry type ${type}`);
      const data = r.bytes('entry data', RECORD_BODY_BYTES_MAX).slice();
      r.end('entry record');
      return { kind, entry: { term, index, type, data } };
    }
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
