import { createHash } from 'node:crypto';
import { ConfState, Snapshot } from '@parley/raft';

/**
 * The snapshot file format of ours: a fixed header, the metadata as bounded JSON, the state
 * machine bytes, and a SHA-256 over everything before it. Decoding validates every field and
 * the digest before anything is used; nothing is evaluated or deserialised into prototypes.
 *
 *   "PRLYSNAP" | u16 version | u32 metaLength | meta JSON | u64 dataLength | data | sha256(32)
 */
const MAGIC = Buffer.from('PRLYSNAP', 'ascii');
export const SNAPSHOT_FORMAT_VERSION = 1;
const META_BYTES_MAX = 1024 * 1024;
const DIGEST_BYTES = 32;

export class SnapshotFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotFormatError';
  }
}

export function encodeSnapshot(snapshot: Snapshot): Buffer {
  const [header, data] = envelope(snapshot);
  const body = Buffer.concat([header, data]);
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}

/** Bytes hashed per event-loop turn by encodeSnapshotPieces (about 2 ms of SHA-256 here). */
const HASH_SLICE_BYTES = 1024 * 1024;

/**
 * The bytes of encodeSnapshot as pieces to write one after another, without copying the state
 * machine's bytes, hashing them a slice per event-loop turn: a replica keeps replicating while
 * a snapshot of tens of megabytes is written.
 */
export async function encodeSnapshotPieces(snapshot: Snapshot): Promise<Uint8Array[]> {
  const [header, data] = envelope(snapshot);
  const hash = createHash('sha256').update(header);
  for (let at = 0; at < data.length; at += HASH_SLICE_BYTES) {
    if (at > 0) await new Promise((resolve) => setImmediate(resolve));
    hash.update(data.subarray(at, at + HASH_SLICE_BYTES));
  }
  return [header, data, hash.digest()];
}

/** Everything before the state machine's bytes, and those bytes. */
function envelope(snapshot: Snapshot): [Buffer, Uint8Array] {
  const meta = Buffer.from(
    JSON.stringify({
      index: snapshot.meta.index,
      term: snapshot.meta.term,
      confState: snapshot.meta.confState,
    }),
    'utf8',
  );
  const header = Buffer.alloc(MAGIC.length + 2 + 4 + meta.length + 8);
  MAGIC.copy(header, 0);
  header.writeUInt16BE(SNAPSHOT_FORMAT_VERSION, MAGIC.length);
  header.writeUInt32BE(meta.length, MAGIC.length + 2);
  meta.copy(header, MAGIC.length + 6);
  header.writeBigUInt64BE(BigInt(snapshot.data.length), MAGIC.length + 6 + meta.length);
  return [header, snapshot.data];
}

export function snapshotDigest(encoded: Uint8Array): string {
  return Buffer.from(encoded.subarray(encoded.length - DIGEST_BYTES)).toString('hex');
}

/** Decodes and verifies; a damaged or foreign file is an error value, never a crash. */
export function decodeSnapshot(bytes: Uint8Array): Snapshot | { error: string } {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fixed = MAGIC.length + 2 + 4;
  if (buf.length < fixed + 8 + DIGEST_BYTES) return { error: 'snapshot file too short' };
  if (!buf.subarray(0, MAGIC.length).equals(MAGIC))
    return { error: 'not a Parley snapshot (bad magic)' };
  const version = buf.readUInt16BE(MAGIC.length);
  if (version !== SNAPSHOT_FORMAT_VERSION)
    return { error: `unsupported snapshot format version ${version}` };
  const body = buf.subarray(0, buf.length - DIGEST_BYTES);
  const digest = createHash('sha256').update(body).digest();
  if (!digest.equals(buf.subarray(buf.length - DIGEST_BYTES)))
    return { error: 'snapshot failed its SHA-256 check' };
  const metaLength = buf.readUInt32BE(MAGIC.length + 2);
  if (metaLength > META_BYTES_MAX || fixed + metaLength + 8 > body.length)
    return { error: 'bad metadata length' };
  const dataLength = Number(buf.readBigUInt64BE(fixed + metaLength));
  if (fixed + metaLength + 8 + dataLength !== body.length)
    return { error: 'data length does not match the file' };
  let raw: unknown;
  try {
    raw = JSON.parse(buf.subarray(fixed, fixed + metaLength).toString('utf8'));
  } catch {
    return { error: 'snapshot metadata is not JSON' };
  }
  const meta = validateMeta(raw);
  if ('error' in meta) return meta;
  const data = new Uint8Array(body.subarray(fixed + metaLength + 8));
  return { meta, data: Uint8Array.from(data) };
}

function isIdList(value: unknown): value is string[] {
  return (
    Array.isArray(value) &&
    value.length <= 1024 &&
    value.every((v) => typeof v === 'string' && v.length > 0 && v.length <= 64)
  );
}

function validateMeta(raw: unknown): Snapshot['meta'] | { error: string } {
  if (typeof raw !== 'object' || raw === null)
    return { error: 'snapshot metadata is not an object' };
  const { index, term, confState } = raw as Record<string, unknown>;
  if (!Number.isSafeInteger(index) || (index as number) < 0)
    return { error: 'snapshot index is not a natural number' };
  if (!Number.isSafeInteger(term) || (term as number) < 0)
    return { error: 'snapshot term is not a natural number' };
  if (typeof confState !== 'object' || confState === null)
    return { error: 'snapshot conf state missing' };
  const cs = confState as Record<string, unknown>;
  if (
    !isIdList(cs.voters) ||
    !isIdList(cs.votersOutgoing) ||
    !isIdList(cs.learners) ||
    !isIdList(cs.learnersNext)
  ) {
    return { error: 'snapshot conf state has a bad member list' };
  }
  if (typeof cs.autoLeave !== 'boolean')
    return { error: 'snapshot conf state autoLeave is not a boolean' };
  const clean: ConfState = {
    voters: [...cs.voters],
    votersOutgoing: [...cs.votersOutgoing],
    learners: [...cs.learners],
    learnersNext: [...cs.learnersNext],
    autoLeave: cs.autoLeave,
  };
  return { index: index as number, term: term as number, confState: clean };
}
