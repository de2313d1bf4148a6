/**
 * Memory for per-frame buffers (decoded input payloads, encoded output messages, a
 * node's output samples), carved from 64 KiB slabs in 8-aligned slices. An
 * ArrayBuffer of its own per frame (or Node's 8 KiB Buffer pool, two 20 ms frames a
 * block) cost an allocation, external-memory accounting and a sweep every frame or
 * two; a slab holds about sixteen. A slice is never handed out twice; a slab lives
 * while any of its slices does (a frame kept long keeps its 64 KiB, the price of the
 * batching). Slices are views: `.buffer` is the slab, so whoever needs a buffer of
 * its own (to transfer it) copies the view.
 */
const SLAB_BYTES = 64 << 10;
/** Larger requests get an ArrayBuffer of their own (they are rare and would waste a slab). */
const MAX_SLICE_BYTES = 16 << 10;

let slab = new ArrayBuffer(SLAB_BYTES);
let used = 0;

/** Where the next slice of `length` bytes starts (a fresh slab when this one is full). */
function carve(length: number): number {
  if (used + length > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    used = 0;
  }
  const at = used;
  used = (used + length + 7) & ~7;
  return at;
}

/** `length` bytes, 8-aligned, never handed out before (zero, as their slab was made). */
export function slabBytes(length: number): Uint8Array<ArrayBuffer> {
  if (length > MAX_SLICE_BYTES) return new Uint8Array(length);
  const at = carve(length);
  return new Uint8Array(slab, at, length);
}

/** `length` float32s, the same way (zero, never handed out before). */
export function slabFloat32(length: number): Float32Array<ArrayBuffer> {
  if (length * 4 > MAX_SLICE_BYTES) return new Float32Array(length);
  const at = carve(length * 4);
  return new Float32Array(slab, at, length);
}
