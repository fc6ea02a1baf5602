import {
  ConfState,
  Entry,
  EntryType,
  Message,
  MessageType,
  SnapshotChunk,
  message,
} from '@parley/raft';
import { ByteReader, ByteWriter, DecodeError } from '@parley/common';

/**
 * The binary wire format of one Raft message between replicas (inside an authenticated frame).
 * Version byte first, so the format can evolve. Decoding bounds every length and answers an
 * error value for malformed input; it never throws past `decodeMessage`.
 */
export const MESSAGE_FORMAT_VERSION = 1;

export interface MessageLimits {
  /** Largest number of entries in one message. */
  entriesMax: number;
  /** Largest payload of one entry, in bytes. */
  entryBytesMax: number;
  /** Largest snapshot chunk, in bytes. */
  chunkBytesMax: number;
}

export const DEFAULT_MESSAGE_LIMITS: MessageLimits = {
  entriesMax: 100_000,
  entryBytesMax: 8 * 1024 * 1024,
  chunkBytesMax: 16 * 1024 * 1024,
};

const typeCodes: MessageType[] = [
  MessageType.Hup,
  MessageType.Beat,
  MessageType.Prop,
  MessageType.App,
  MessageType.AppResp,
  MessageType.Vote,
  MessageType.VoteResp,
  MessageType.PreVote,
  MessageType.PreVoteResp,
  MessageType.Snap,
  MessageType.SnapResp,
  MessageType.Heartbeat,
  MessageType.HeartbeatResp,
  MessageType.Unreachable,
  MessageType.SnapStatus,
  MessageType.CheckQuorum,
  MessageType.TransferLeader,
  MessageType.TimeoutNow,
  MessageType.ReadIndex,
  MessageType.ReadIndexResp,
];
const codeOf = new Map(typeCodes.map((type, code) => [type, code]));

const ID_BYTES_MAX = 64;
const CONTEXT_BYTES_MAX = 1024;
const MEMBERS_MAX = 1024;

function writeIds(w: ByteWriter, ids: readonly string[]): void {
  w.u32(ids.length);
  for (const id of ids) w.string(id);
}

function readIds(r: ByteReader, what: string): string[] {
  const count = r.u32(`${what} count`);
  if (count > MEMBERS_MAX) throw new DecodeError(`${what}: ${count} members exceed ${MEMBERS_MAX}`);
  const ids: string[] = [];
  for (let i = 0; i < count; i += 1) ids.push(r.string(what, ID_BYTES_MAX));
  return ids;
}

export function encodeMessage(m: Message): Uint8Array {
  const code = codeOf.get(m.type);
  if (code === undefined) throw new RangeError(`unknown message type ${m.type}`);
  const w = new ByteWriter(64 + m.entries.reduce((n, e) => n + e.data.length + 24, 0));
  w.u8(MESSAGE_FORMAT_VERSION).u8(code).string(m.to).string(m.from);
  w.u53(m.term)
    .u53(m.logTerm)
    .u53(m.index)
    .u53(m.commit)
    .u8(m.reject ? 1 : 0)
    .u53(m.rejectHint);
  w.string(m.context).u53(m.sentTick).u53(m.snapshotOffset);
  w.u32(m.entries.length);
  for (const e of m.entries) w.u53(e.term).u53(e.index).u8(e.type).bytes(e.data);
  const chunk = m.snapshotChunk;
  w.u8(chunk ? 1 : 0);
  if (chunk) {
    const { meta } = chunk;
    w.u53(meta.index).u53(meta.term);
    const cs = meta.confState;
    writeIds(w, cs.voters);
    writeIds(w, cs.votersOutgoing);
    writeIds(w, cs.learners);
    writeIds(w, cs.learnersNext);
    w.u8(cs.autoLeave ? 1 : 0);
    w.u53(chunk.offset).u53(chunk.totalBytes).bytes(chunk.data);
  }
  return w.finish();
}

export type DecodedMessage = { ok: true; message: Message } | { ok: false; error: string };

export function decodeMessage(
  bytes: Uint8Array,
  limits: MessageLimits = DEFAULT_MESSAGE_LIMITS,
): DecodedMessage {
  try {
    return { ok: true, message: decodeOrThrow(bytes, limits) };
  } catch (error) {
    if (error instanceof DecodeError) return { ok: false, error: error.message };
    throw error;
  }
}

function decodeOrThrow(bytes: Uint8Array, limits: MessageLimits): Message {
  const r = new ByteReader(bytes);
  const version = r.u8('version');
  if (version !== MESSAGE_FORMAT_VERSION)
    throw new DecodeError(`unsupported message format version ${version}`);
  const type = typeCodes[r.u8('type')];
  if (type === undefined) throw new DecodeError('unknown message type');
  const to = r.string('to', ID_BYTES_MAX);
  const from = r.string('from', ID_BYTES_MAX);
  const term = r.u53('term');
  const logTerm = r.u53('logTerm');
  const index = r.u53('index');
  const commit = r.u53('commit');
  const reject = r.u8('reject') === 1;
  const rejectHint = r.u53('rejectHint');
  const context = r.string('context', CONTEXT_BYTES_MAX);
  const sentTick = r.u53('sentTick');
  const snapshotOffset = r.u53('snapshotOffset');
  const entryCount = r.u32('entry count');
  if (entryCount > limits.entriesMax)
    throw new DecodeError(`${entryCount} entries exceed ${limits.entriesMax}`);
  // Every entry takes at least 21 bytes: a count larger than the input is malformed.
  if (entryCount * 21 > r.remaining) throw new DecodeError('entry count larger than the frame');
  const entries: Entry[] = [];
  for (let i = 0; i < entryCount; i += 1) {
    const entryTerm = r.u53('entry term');
    const entryIndex = r.u53('entry index');
    const entryType = r.u8('entry type');
    if (entryType !== EntryType.Normal && entryType !== EntryType.ConfChange)
      throw new DecodeError('unknown entry type');
    // Copy out of the frame buffer: entries outlive it in the log. A typed-array copy, not
    // .slice(), which on the server's Buffer is a view that pins the whole socket chunk.
    const data = new Uint8Array(r.bytes('entry data', limits.entryBytesMax));
    entries.push({ term: entryTerm, index: entryIndex, type: entryType, data });
  }
  let snapshotChunk: SnapshotChunk | undefined;
  if (r.u8('chunk flag') === 1) {
    const metaIndex = r.u53('snapshot index');
    const metaTerm = r.u53('snapshot term');
    const confState: ConfState = {
      voters: readIds(r, 'voters'),
      votersOutgoing: readIds(r, 'outgoing voters'),
      learners: readIds(r, 'learners'),
      learnersNext: readIds(r, 'next learners'),
      autoLeave: r.u8('auto leave') === 1,
    };
    const offset = r.u53('chunk offset');
    const totalBytes = r.u53('snapshot size');
    const data = new Uint8Array(r.bytes('chunk data', limits.chunkBytesMax));
    if (offset + data.length > totalBytes)
      throw new DecodeError('chunk extends past the snapshot size');
    snapshotChunk = {
      meta: { index: metaIndex, term: metaTerm, confState },
      offset,
      data,
      totalBytes,
    };
  }
  r.end('message');
  return message({
    type,
    to,
    from,
    term,
    logTerm,
    index,
    commit,
    reject,
    rejectHint,
    context,
    sentTick,
    snapshotOffset,
    entries,
    snapshotChunk,
  });
}
