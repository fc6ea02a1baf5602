import fc from 'fast-check';
import { crc32c } from './crc32c';

/** Byte-at-a-time CRC-32C: the reference the sliced one must agree with (WAL files on disk). */
function naiveCrc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k += 1) crc = crc & 1 ? 0x82f63b78 ^ (crc >>> 1) : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

describe('CRC-32C by slices of eight bytes', () => {
  it('gives the check value of the standard', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
  });

  it('agrees with the byte-at-a-time CRC, and continues from a seed', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(300), (bytes, cut) => {
        const at = Math.min(cut, bytes.length);
        expect(crc32c(bytes)).toBe(naiveCrc32c(bytes));
        expect(crc32c(bytes.subarray(at), crc32c(bytes.subarray(0, at)))).toBe(naiveCrc32c(bytes));
      }),
      { numRuns: 500 },
    );
  });
});
