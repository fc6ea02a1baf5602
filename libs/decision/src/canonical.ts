/** Field names as JSON, kept: commands reuse a handful of names (bounded, as agent ids are keys too). */
const quotedKeys = new Map<string, string>();
const QUOTED_KEYS_MAX = 256;

function quotedKey(k: string): string {
  let quoted = quotedKeys.get(k);
  if (quoted === undefined) {
    quoted = JSON.stringify(k);
    if (quotedKeys.size < QUOTED_KEYS_MAX) quotedKeys.set(k, quoted);
  }
  return quoted;
}

/**
 * A canonical JSON text of a command (sorted keys, `ts` left out at every level), so equal
 * commands fingerprint equally. The fingerprints are kept in snapshots: this text must never
 * change. Written as loops because every replica computes it for every command it applies.
 */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i += 1) {
      if (i > 0) out += ',';
      // As Array.prototype.join writes an element that has no JSON text (undefined): nothing.
      out += canonical(value[i] as unknown) ?? '';
    }
    return `${out}]`;
  }
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record).sort();
    let out = '{';
    let first = true;
    for (const k of keys) {
      const field = record[k];
      if (k === 'ts' || field === undefined) continue;
      out += `${first ? '' : ','}${quotedKey(k)}:${canonical(field)}`;
      first = false;
    }
    return `${out}}`;
  }
  return JSON.stringify(value);
}
