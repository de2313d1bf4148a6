import { describe, expect, it } from 'vitest';
import { slabBytes } from './buffer-slab.ts';

describe('slab memory for per-frame buffers', () => {
  it('hands out exact, 8-aligned slices that never overlap, and a large request its own buffer', () => {
    const slices = [1, 3870, 7, 0, 3840, 16 << 10, 5000, 9].flatMap((n) =>
      Array.from({ length: 40 }, () => slabBytes(n)),
    );
    const byBuffer = new Map<ArrayBufferLike, Uint8Array[]>();
    for (const slice of slices) {
      expect(slice.byteOffset % 8).toBe(0);
      byBuffer.set(slice.buffer, [...(byBuffer.get(slice.buffer) ?? []), slice]);
    }
    for (const [, shared] of byBuffer) {
      const sorted = [...shared].sort((a, b) => a.byteOffset - b.byteOffset);
      for (let i = 1; i < sorted.length; i++) {
        expect(sorted[i]!.byteOffset).toBeGreaterThanOrEqual(
          sorted[i - 1]!.byteOffset + sorted[i - 1]!.length,
        );
      }
    }
    // Writing every slice with its own mark leaves every other slice's mark intact.
    slices.forEach((slice, i) => slice.fill(i & 0xff));
    slices.forEach((slice, i) => expect(slice.every((b) => b === (i & 0xff))).toBe(true));
    const large = slabBytes((16 << 10) + 1);
    expect([large.byteOffset, large.buffer.byteLength]).toEqual([0, (16 << 10) + 1]);
  });
});
