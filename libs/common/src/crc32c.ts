/**
 * Table-driven CRC-32 by slicing-by-8 (eight bytes per step), for any reflected polynomial:
 * CRC-32C (Castagnoli) guards every WAL and delta-log record, CRC-32 (IEEE) the snapshots. A
 * replica checks every record of its WAL at start (hundreds of megabytes after a long run);
 * one byte at a time was a visible part of a restart.
 */
export interface Crc32 {
  /** The running value a CRC computed piece by piece starts from. */
  readonly start: number;
  /** Feeds the next piece of the bytes into a running CRC (see finish). */
  update(running: number, bytes: Uint8Array): number;
  finish(running: number): number;
}

export function slicingBy8Crc(polynomial: number): Crc32 {
  const tables = Array.from({ length: 8 }, () => new Uint32Array(256));
  for (let n = 0; n < 256; n += 1) {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? polynomial ^ (c >>> 1) : c >>> 1;
    tables[0][n] = c >>> 0;
  }
  // tables[k] advances a byte's contribution k more bytes.
  for (let k = 1; k < 8; k += 1)
    for (let n = 0; n < 256; n += 1) {
      const previous = tables[k - 1][n];
      tables[k][n] = (previous >>> 8) ^ tables[0][previous & 0xff];
    }
  const [t0, t1, t2, t3, t4, t5, t6, t7] = tables;
  return {
    start: 0xffffffff,
    update(running, bytes) {
      let crc = running;
      let i = 0;
      for (const end = bytes.length - 7; i < end; i += 8) {
        const low =
          crc ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
        const high =
          bytes[i + 4] | (bytes[i + 5] << 8) | (bytes[i + 6] << 16) | (bytes[i + 7] << 24);
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
    },
    finish: (running) => (running ^ 0xffffffff) >>> 0,
  };
}

const castagnoli = slicingBy8Crc(0x82f63b78);

/** CRC-32C (Castagnoli) of bytes; `seed` continues from an earlier result. */
export function crc32c(bytes: Uint8Array, seed = 0): number {
  return castagnoli.finish(castagnoli.update(~seed >>> 0, bytes));
}
