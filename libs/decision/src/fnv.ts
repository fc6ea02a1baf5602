/**
 * FNV-1a over UTF-16 code units in two 32-bit lanes: a deterministic, pure 64-bit hash, as
 * `[high, low]` unsigned 32-bit numbers (the session table keeps them in typed arrays).
 */
export function fingerprintLanes(text: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ text.length;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ (c + i), 0x01000193) >>> 0;
  }
  return [a, b];
}

/** The same hash as 16 hex digits (the form snapshots of version 1 kept). */
export function fingerprint(text: string): string {
  const [a, b] = fingerprintLanes(text);
  return a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0');
}

/**
 * CRC-32 (IEEE) tables for slicing-by-8: `tables[0]` is the byte-at-a-time table, `tables[k]`
 * advances a byte's contribution k more bytes, so eight bytes take one step (snapshots hold
 * hundreds of megabytes of session columns; byte at a time took seconds).
 */
const crcTables = (() => {
  const tables = Array.from({ length: 8 }, () => new Uint32Array(256));
  for (let n = 0; n < 256; n += 1) {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    tables[0][n] = c >>> 0;
  }
  for (let k = 1; k < 8; k += 1)
    for (let n = 0; n < 256; n += 1) {
      const previous = tables[k - 1][n];
      tables[k][n] = (previous >>> 8) ^ tables[0][previous & 0xff];
    }
  return tables;
})();

/** CRC-32 (IEEE) of bytes, for the snapshot envelope. */
export function crc32(bytes: Uint8Array): number {
  return crc32Finish(crc32Update(CRC32_START, bytes));
}

/** The running value a CRC-32 computed piece by piece starts from. */
export const CRC32_START = 0xffffffff;

/** Feeds the next piece of the bytes into a running CRC-32 (see crc32Finish). */
export function crc32Update(running: number, bytes: Uint8Array): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = crcTables;
  let crc = running;
  let i = 0;
  for (const end = bytes.length - 7; i < end; i += 8) {
    const low =
      crc ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
    const high = bytes[i + 4] | (bytes[i + 5] << 8) | (bytes[i + 6] << 16) | (bytes[i + 7] << 24);
    crc =
      t7[low & 0xff] ^
      t6[(low >>> 8) & 0xff] ^
      t5[(low >>> 16) & 0xff] ^
      t4[low >>> 24] ^
      t3[high & 0xff] ^
      t2[(high >>> 8) & 0xff] ^
      t1[(high >>> 16) & 0xff] ^
      t0[high >>> 24];
  }
  for (; i < bytes.length; i += 1) crc = t0[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return crc >>> 0;
}

export function crc32Finish(running: number): number {
  return (running ^ 0xffffffff) >>> 0;
}
