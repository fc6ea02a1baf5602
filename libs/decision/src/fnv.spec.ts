import fc from 'fast-check';
import { CRC32_START, crc32, crc32Finish, crc32Update } from './fnv';

/** The byte-at-a-time CRC-32 (IEEE), the reference the sliced one must agree with. */
function naiveCrc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k += 1) crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

describe('CRC-32 by slices of eight bytes', () => {
  it('gives the check value of the standard', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('agrees with the byte-at-a-time CRC, whole or fed in pieces', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(300), (bytes, cut) => {
        const at = Math.min(cut, bytes.length);
        const pieces = crc32Update(
          crc32Update(CRC32_START, bytes.subarray(0, at)),
          bytes.subarray(at),
        );
        expect(crc32(bytes)).toBe(naiveCrc32(bytes));
        expect(crc32Finish(pieces)).toBe(naiveCrc32(bytes));
      }),
      { numRuns: 500 },
    );
  });
});
