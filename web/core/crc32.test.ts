import { describe, expect, it } from 'vitest';
import { crc32 } from './crc32.ts';

/** CRC-32 by its definition, one bit at a time: the reference for the table loop. */
function bitwise(bytes: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (const byte of bytes) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return ~c >>> 0;
}

describe('crc32', () => {
  // Every length from 0 to 80 covers the 16-byte steps and every tail length.
  const bytes = Uint8Array.from({ length: 100 }, (_, i) => (i * 7919 + 13) & 0xff);

  it('gives the definition CRC for every length, start offset and continued CRC', () => {
    for (let start = 0; start < 5; start++) {
      for (let length = 0; length <= 80; length++) {
        const range = bytes.subarray(start, start + length);
        expect(crc32(bytes, start, start + length)).toBe(bitwise(range));
        expect(crc32(bytes, start, start + length, 0x1234_5678)).toBe(bitwise(range, 0x1234_5678));
      }
    }
  });

  it('continues across a split exactly as over the whole', () => {
    expect(crc32(bytes, 37, 100, crc32(bytes, 0, 37))).toBe(crc32(bytes));
  });
});
