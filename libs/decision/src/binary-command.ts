import { commandFingerprint } from './command-fingerprint';
import { Command } from './commands';

/**
 * The binary form of a log entry's command (format byte 2): every replica decodes every entry
 * it applies, a restart a million of them, and JSON text cost twice the time to read and five
 * times the time to write. Layout, big-endian as the WAL and peer frames:
 *
 *   u8 format (2) | u8 type code | u53 ts (two u32) | [u32 u32 fingerprint]
 *   | u32 byte length of each string field | each integer field | the strings' UTF-8, in order
 *
 * The fingerprint (commandFingerprint, the session table's) is there for the types with a
 * requestId, so that the replicas, and a restart, read it instead of each hashing the command
 * again. An integer is a u53, an optional one a u8 presence (0 or 1) and then the u53. The
 * strings come last and together, so that the usual all-ASCII command is one UTF-8 decode and
 * a slice per field, not a decode per field.
 *
 * `proposal.create` (nested policy) and any command the form cannot carry exactly (a field it
 * does not know, a negative or fractional number, a string with a lone surrogate, which UTF-8
 * cannot hold) are written as JSON (format 1). A decoded command is validated as a JSON one
 * is: the form fixes the types, not the limits. The fingerprint is taken as the entry holds
 * it, as the command is: the log is what every replica agrees on (checksummed on disk,
 * authenticated between peers), and recomputing it is what the field is there to save.
 */
export const BINARY_COMMAND_FORMAT = 2;

type FieldKind = 'string' | 'integer' | 'optionalInteger';

interface Layout {
  code: number;
  type: Command['type'];
  fields: readonly (readonly [name: string, kind: FieldKind])[];
}

/** Type codes are part of the format: never renumber, only add. */
const LAYOUTS: readonly Layout[] = [
  {
    code: 1,
    type: 'kv.put',
    fields: [
      ['requestId', 'string'],
      ['key', 'string'],
      ['value', 'string'],
      ['ifVersion', 'optionalInteger'],
    ],
  },
  {
    code: 2,
    type: 'kv.delete',
    fields: [
      ['requestId', 'string'],
      ['key', 'string'],
      ['ifVersion', 'optionalInteger'],
    ],
  },
  {
    code: 3,
    type: 'inventory.restock',
    fields: [
      ['requestId', 'string'],
      ['sku', 'string'],
      ['quantity', 'integer'],
    ],
  },
  {
    code: 4,
    type: 'inventory.reserve',
    fields: [
      ['requestId', 'string'],
      ['sku', 'string'],
      ['orderId', 'string'],
      ['quantity', 'integer'],
    ],
  },
  {
    code: 5,
    type: 'inventory.release',
    fields: [
      ['requestId', 'string'],
      ['sku', 'string'],
      ['orderId', 'string'],
    ],
  },
  {
    code: 6,
    type: 'budget.set',
    fields: [
      ['requestId', 'string'],
      ['campaign', 'string'],
      ['limit', 'integer'],
    ],
  },
  {
    code: 7,
    type: 'budget.spend',
    fields: [
      ['requestId', 'string'],
      ['campaign', 'string'],
      ['bidId', 'string'],
      ['amount', 'integer'],
    ],
  },
  {
    code: 8,
    type: 'proposal.vote',
    fields: [
      ['requestId', 'string'],
      ['proposalId', 'string'],
      ['agentId', 'string'],
      ['option', 'string'],
      ['weight', 'optionalInteger'],
    ],
  },
  { code: 9, type: 'clock', fields: [] },
  { code: 10, type: 'mirror.cursor', fields: [['index', 'integer']] },
];

/** A layout as the coder walks it: string fields, then integer fields (optional or not). */
interface Walk {
  code: number;
  type: Command['type'];
  fingerprinted: boolean;
  /** The command fields the layout carries (`type` and `ts` included): no other may be set. */
  carried: ReadonlySet<string>;
  strings: readonly string[];
  integers: readonly (readonly [name: string, optional: boolean])[];
}

const walks: Walk[] = LAYOUTS.map(({ code, type, fields }) => ({
  code,
  type,
  fingerprinted: fields.some(([name]) => name === 'requestId'),
  carried: new Set(['type', 'ts', ...fields.map(([name]) => name)]),
  strings: fields.filter(([, kind]) => kind === 'string').map(([name]) => name),
  integers: fields
    .filter(([, kind]) => kind !== 'string')
    .map(([name, kind]) => [name, kind === 'optionalInteger'] as const),
}));
const byType = new Map(walks.map((walk) => [walk.type as string, walk]));
const byCode = new Map(walks.map((walk) => [walk.code, walk]));
const U32 = 0x100000000;
const isU53 = (value: unknown): value is number =>
  Number.isSafeInteger(value) && (value as number) >= 0;

/**
 * Scratch space for encoding, grown to the largest command seen (commands are ≤ 1 MiB): one
 * memory seen as a Buffer (to write strings and integers) and as the Uint8Array the encoded
 * command is copied out of (a Buffer's slice would be a Buffer).
 */
let scratch = Buffer.allocUnsafe(4096);
let scratchBytes = new Uint8Array(scratch.buffer, scratch.byteOffset, scratch.length);

function reserve(bound: number): void {
  if (scratch.length >= bound) return;
  scratch = Buffer.allocUnsafe(Math.max(bound, scratch.length * 2));
  scratchBytes = new Uint8Array(scratch.buffer, scratch.byteOffset, scratch.length);
}

/** ES2024's String.prototype.isWellFormed (Node 20+), which the ES2023 library types lack. */
const isWellFormed = (value: string): boolean =>
  (value as unknown as { isWellFormed(): boolean }).isWellFormed();

/** The command in format 2, or undefined when the form cannot carry it exactly. */
export function encodeBinaryCommand(command: Command): Uint8Array | undefined {
  const layout = byType.get(command.type);
  if (layout === undefined) return undefined;
  const record = command as unknown as Record<string, unknown>;
  let bound = 2 + 8 + 8;
  for (const name in record) {
    const value = record[name];
    if (value === undefined) continue;
    if (!layout.carried.has(name)) return undefined;
    // A UTF-16 code unit is at most 3 UTF-8 bytes.
    bound += typeof value === 'string' ? 4 + value.length * 3 : 9;
  }
  if (!isU53(command.ts)) return undefined;
  reserve(bound);
  const out = scratch;
  out[0] = BINARY_COMMAND_FORMAT;
  out[1] = layout.code;
  let at = writeU53(out, 2, command.ts);
  if (layout.fingerprinted) {
    const [hi, lo] = commandFingerprint(command);
    out.writeUInt32BE(hi, at);
    out.writeUInt32BE(lo, at + 4);
    at += 8;
  }
  // Lengths first, integers, then the strings: each string is written where it goes and its
  // length filled in behind it.
  let lengthAt = at;
  at += 4 * layout.strings.length;
  for (const [name, optional] of layout.integers) {
    const value = record[name];
    if (optional) {
      if (value === undefined) {
        out[at++] = 0;
        continue;
      }
      out[at++] = 1;
    }
    if (!isU53(value)) return undefined;
    at = writeU53(out, at, value);
  }
  for (const name of layout.strings) {
    const value = record[name];
    if (typeof value !== 'string' || !isWellFormed(value)) return undefined;
    const length = out.write(value, at, 'utf8');
    out.writeUInt32BE(length, lengthAt);
    lengthAt += 4;
    at += length;
  }
  return scratchBytes.slice(0, at);
}

function writeU53(out: Buffer, at: number, value: number): number {
  out.writeUInt32BE(Math.floor(value / U32), at);
  out.writeUInt32BE(value >>> 0, at + 4);
  return at + 8;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads a format-2 command into a plain object (not yet validated), or an error. Never
 * throws: every length is checked against the bytes there are.
 */
export function decodeBinaryCommand(
  bytes: Uint8Array,
):
  | { ok: true; raw: Record<string, unknown>; print: [number, number] | undefined }
  | { ok: false; error: string } {
  const layout = byCode.get(bytes[1]);
  if (layout === undefined) return { ok: false, error: `unknown command type code ${bytes[1]}` };
  const fixed = 2 + 8 + (layout.fingerprinted ? 8 : 0) + 4 * layout.strings.length;
  if (fixed > bytes.length) return truncated(layout);
  const ts = readU53(bytes, 2);
  let at = 10;
  let print: [number, number] | undefined;
  if (layout.fingerprinted) {
    print = [readU32(bytes, at), readU32(bytes, at + 4)];
    at += 8;
  }
  let lengthAt = at;
  at += 4 * layout.strings.length;
  // Keys in the order the command types list them (type, requestId, ts, ...): the order a
  // JSON command usually has, and the one the Kafka mirror writes.
  const raw: Record<string, unknown> = { type: layout.type };
  if (!layout.fingerprinted) raw.ts = ts;
  // The integers are checked here and read after the strings (the key order above).
  const integersAt = at;
  for (const [name, optional] of layout.integers) {
    if (optional) {
      if (at + 1 > bytes.length) return truncated(layout);
      const present = bytes[at++];
      if (present === 0) continue;
      if (present !== 1) return { ok: false, error: `${layout.type} ${name} presence ${present}` };
    }
    if (at + 8 > bytes.length) return truncated(layout);
    at += 8;
  }
  let stringBytes = 0;
  for (let i = 0; i < layout.strings.length; i += 1)
    stringBytes += readU32(bytes, lengthAt + 4 * i);
  if (at + stringBytes > bytes.length) return truncated(layout);
  if (at + stringBytes < bytes.length)
    return {
      ok: false,
      error: `${bytes.length - at - stringBytes} bytes after a ${layout.type} command`,
    };
  let text: string;
  try {
    text = utf8.decode(bytes.subarray(at));
  } catch {
    return { ok: false, error: `${layout.type} strings are not UTF-8` };
  }
  // As many characters as bytes: every byte was an ASCII character, so byte offsets are
  // character offsets. Otherwise each string is decoded on its own.
  const ascii = text.length === stringBytes;
  let from = 0;
  for (const name of layout.strings) {
    const length = readU32(bytes, lengthAt);
    lengthAt += 4;
    if (ascii) raw[name] = text.slice(from, from + length);
    else {
      try {
        raw[name] = utf8.decode(bytes.subarray(at + from, at + from + length));
      } catch {
        return { ok: false, error: `${layout.type} ${name} is not UTF-8` };
      }
    }
    from += length;
    if (name === 'requestId') raw.ts = ts;
  }
  at = integersAt;
  for (const [name, optional] of layout.integers) {
    if (optional && bytes[at++] === 0) continue;
    raw[name] = readU53(bytes, at);
    at += 8;
  }
  return { ok: true, raw, print };
}

function truncated(layout: Walk): { ok: false; error: string } {
  return { ok: false, error: `truncated ${layout.type} command` };
}

function readU32(bytes: Uint8Array, at: number): number {
  return ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
}

/** A u53 read back; a high half above 2^21 gives an unsafe integer, which validation refuses. */
function readU53(bytes: Uint8Array, at: number): number {
  return readU32(bytes, at) * U32 + readU32(bytes, at + 4);
}
