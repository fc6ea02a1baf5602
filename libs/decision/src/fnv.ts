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

const crcTable = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n += 1) {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE) of bytes, for the snapshot envelope. */
export function crc32(bytes: Uint8Array): number {
  return crc32Finish(crc32Update(CRC32_START, bytes));
}

/** The running value a CRC-32 computed piece by piece starts from. */
export const CRC32_START = 0xffffffff;

/** Feeds the next piece of the bytes into a running CRC-32 (see crc32Finish). */
export function crc32Update(running: number, bytes: Uint8Array): number {
  let crc = running;
  for (let i = 0; i < bytes.length; i += 1) crc = crcTable[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return crc;
}

export function crc32Finish(running: number): number {
  return (running ^ 0xffffffff) >>> 0;
}
