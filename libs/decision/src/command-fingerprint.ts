import { COMMAND_FIELDS, Command } from './commands';
import { canonical } from './canonical';
import { fingerprintLanes } from './fnv';

/**
 * The fingerprint the session table keeps for a command: exactly
 * `fingerprintLanes(canonical(command))`, computed without building the canonical text. Every
 * replica computes it for every command it applies (a million at a WAL replay), and building
 * the text was a third of applying a `kv.put`. A validated command holds only its type's
 * fields, so their order in the canonical text is known per type; a string that JSON writes
 * as itself between quotes (the usual value, key and id) is hashed in place, anything else
 * through `canonical`.
 */
export function commandFingerprint(command: Command): [number, number] {
  const fields = CANONICAL_FIELDS.get(command.type);
  if (fields === undefined) return fingerprintLanes(canonical(command));
  const record = command as unknown as Record<string, unknown>;
  // First the text's length: FNV's second lane starts from it.
  let length = 2;
  let present = 0;
  for (let f = 0; f < fields.length; f += 1) {
    const value = record[fields[f].name];
    if (value === undefined) {
      pieces[f] = undefined;
      continue;
    }
    if (typeof value === 'string' && writesAsItself(value)) {
      pieces[f] = value;
      quoted[f] = 1;
      length += value.length + 2;
    } else {
      const text = canonical(value);
      pieces[f] = text;
      quoted[f] = 0;
      length += text.length;
    }
    length += fields[f].key.length + (present > 0 ? 1 : 0);
    present += 1;
  }
  // The lanes are locals kept as signed 32-bit integers (the same bits fingerprintLanes keeps
  // unsigned): numbers above 2^31 are boxed when they leave a register.
  let a = Math.imul(FNV_OFFSET ^ OPEN_BRACE, FNV_PRIME);
  let b = Math.imul(FNV_PRIME ^ length ^ OPEN_BRACE, FNV_PRIME);
  let at = 1;
  let first = true;
  // Written out rather than through a helper: the lanes must stay in registers.
  for (let f = 0; f < fields.length; f += 1) {
    const piece = pieces[f];
    if (piece === undefined) continue;
    pieces[f] = undefined;
    const field = fields[f];
    const isQuoted = quoted[f] === 1;
    const prefix = first
      ? isQuoted
        ? field.keyQuote
        : field.key
      : isQuoted
        ? field.commaKeyQuote
        : field.commaKey;
    first = false;
    for (let i = 0; i < prefix.length; i += 1) {
      const c = prefix.charCodeAt(i);
      a = Math.imul(a ^ c, FNV_PRIME);
      b = Math.imul(b ^ (c + at), FNV_PRIME);
      at += 1;
    }
    for (let i = 0; i < piece.length; i += 1) {
      const c = piece.charCodeAt(i);
      a = Math.imul(a ^ c, FNV_PRIME);
      b = Math.imul(b ^ (c + at), FNV_PRIME);
      at += 1;
    }
    if (isQuoted) {
      a = Math.imul(a ^ QUOTE, FNV_PRIME);
      b = Math.imul(b ^ (QUOTE + at), FNV_PRIME);
      at += 1;
    }
  }
  a = Math.imul(a ^ CLOSE_BRACE, FNV_PRIME);
  b = Math.imul(b ^ (CLOSE_BRACE + at), FNV_PRIME);
  return [a >>> 0, b >>> 0];
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Whether JSON.stringify writes `s` as `"s"`: no control character, quote, backslash or surrogate. */
function writesAsItself(s: string): boolean {
  for (let i = 0; i < s.length; i += 1) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === QUOTE || c === BACKSLASH || (c >= 0xd800 && c <= 0xdfff)) return false;
  }
  return true;
}

/** Per command type, its fields as the canonical text orders them (sorted, `ts` left out). */
const CANONICAL_FIELDS = new Map(
  [...COMMAND_FIELDS].map(([type, names]) => [
    type,
    names
      .filter((name) => name !== 'ts')
      .sort()
      .map((name) => ({
        name,
        key: `${JSON.stringify(name)}:`,
        commaKey: `,${JSON.stringify(name)}:`,
        keyQuote: `${JSON.stringify(name)}:"`,
        commaKeyQuote: `,${JSON.stringify(name)}:"`,
      })),
  ]),
);

/** Scratch space for one fingerprint's field texts (no command type has more fields). */
const FIELDS_MAX = Math.max(...[...CANONICAL_FIELDS.values()].map((fields) => fields.length));
const pieces: (string | undefined)[] = new Array<string | undefined>(FIELDS_MAX).fill(undefined);
const quoted = new Uint8Array(FIELDS_MAX);
