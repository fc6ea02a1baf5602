import { slicingBy8Crc } from '@parley/common';

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

/** CRC-32 (IEEE), for the snapshot envelope (snapshots hold hundreds of megabytes of columns). */
const ieee = slicingBy8Crc(0xedb88320);

/** CRC-32 (IEEE) of bytes, for the snapshot envelope. */
export function crc32(bytes: Uint8Array): number {
  return crc32Finish(crc32Update(CRC32_START, bytes));
}

/** The running value a CRC-32 computed piece by piece starts from. */
export const CRC32_START = ieee.start;

/** Feeds the next piece of the bytes into a running CRC-32 (see crc32Finish). */
export function crc32Update(running: number, bytes: Uint8Array): number {
  return ieee.update(running, bytes);
}

export function crc32Finish(running: number): number {
  return ieee.finish(running);
}
