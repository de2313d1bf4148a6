/**
 * Memory for the gateway's per-frame buffers (decoded input payloads, encoded output
 * messages), carved from 64 KiB slabs in 8-aligned slices. An ArrayBuffer of its own
 * per frame (or Node's 8 KiB Buffer pool, two 20 ms frames a block) cost an
 * allocation, external-memory accounting and a sweep every frame or two; a slab
 * holds about sixteen. A slice is never handed out twice; a slab lives while any of
 * its slices does (a frame kept long keeps its 64 KiB, the price of the batching).
 */
const SLAB_BYTES = 64 << 10;
/** Larger requests get an ArrayBuffer of their own (they are rare and would waste a slab). */
const MAX_SLICE_BYTES = 16 << 10;

let slab = new ArrayBuffer(SLAB_BYTES);
let used = 0;

/** `length` bytes, 8-aligned, never handed out before (zero, as their slab was made). */
export function slabBytes(length: number): Uint8Array<ArrayBuffer> {
  if (length > MAX_SLICE_BYTES) return new Uint8Array(length);
  if (used + length > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    used = 0;
  }
  const bytes = new Uint8Array(slab, used, length);
  used = (used + length + 7) & ~7;
  return bytes;
}
