/**
 * CRC-32 (IEEE 802.3, the polynomial of zlib.crc32 and PNG), so that the Python
 * twin of the frame codec can check frames with the standard library alone.
 * Slice-by-16 tables (16 KiB): 16 bytes per step, about 2x the speed of slice-by-4
 * and 8x the byte-at-a-time loop. Frames in the in-process rings skip it
 * (RING_FRAME_CODEC in web/runtime/ring/frame-ring.ts); the gateway wire and the
 * pipes to CPython check every frame.
 * Allocates nothing (a native CRC, when installed, is given a subarray view for a range).
 */

/** 16 tables of 256 entries, table k at offset 256 * k: table k advances a byte by k more bytes. */
const TABLES = buildTables();

/** The host's own CRC-32 (same polynomial and convention as zlib's), when one was given. */
let native: ((bytes: Uint8Array, crc: number) => number) | undefined;
/** Below this many bytes the table loop is as fast as a call into native code. */
const NATIVE_FROM_BYTES = 64;

/**
 * Puts a host's native CRC-32 in place of the table loop, for every caller in this
 * realm: on Node, `zlib.crc32` (about 10x the loop's speed on a 20 ms audio frame,
 * where the loop was the gateway's largest cost in JS). It must give the results
 * of zlib.crc32(bytes, crc); web/core itself imports no host module. `undefined`
 * goes back to the table loop (tests that count CRC calls restore it so).
 */
export function useNativeCrc32(
  crc: ((bytes: Uint8Array, crc: number) => number) | undefined,
): void {
  native = crc;
}

function buildTables(): Uint32Array {
  const tables = new Uint32Array(256 * 16);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    tables[n] = c >>> 0;
  }
  for (let k = 1; k < 16; k++) {
    for (let n = 0; n < 256; n++) {
      const prev = tables[256 * (k - 1) + n]!;
      tables[256 * k + n] = (prev >>> 8) ^ tables[prev & 0xff]!;
    }
  }
  return tables;
}

/** CRC-32 of bytes[start, end), continuing from `crc` (0 for a fresh checksum). */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length, crc = 0): number {
  if (native && end - start >= NATIVE_FROM_BYTES) {
    return native(start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end), crc);
  }
  const t = TABLES;
  let c = ~crc >>> 0;
  let i = start;
  const end16 = end - ((end - start) & 15);
  for (; i < end16; i += 16) {
    // The running CRC folds into the first 4 bytes; byte j of the block goes
    // through table 15 - j (it has 15 - j bytes after it in the block).
    const a =
      (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24)) ^ c;
    c =
      t[3840 + (a & 0xff)]! ^
      t[3584 + ((a >>> 8) & 0xff)]! ^
      t[3328 + ((a >>> 16) & 0xff)]! ^
      t[3072 + (a >>> 24)]! ^
      t[2816 + bytes[i + 4]!]! ^
      t[2560 + bytes[i + 5]!]! ^
      t[2304 + bytes[i + 6]!]! ^
      t[2048 + bytes[i + 7]!]! ^
      t[1792 + bytes[i + 8]!]! ^
      t[1536 + bytes[i + 9]!]! ^
      t[1280 + bytes[i + 10]!]! ^
      t[1024 + bytes[i + 11]!]! ^
      t[768 + bytes[i + 12]!]! ^
      t[512 + bytes[i + 13]!]! ^
      t[256 + bytes[i + 14]!]! ^
      t[bytes[i + 15]!]!;
  }
  for (; i < end; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
