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
import type { RuntimeData } from './runtime-data.ts';

const SLAB_BYTES = 64 << 10;
/** Larger requests get an ArrayBuffer of their own (they are rare and would waste a slab). */
const MAX_SLICE_BYTES = 16 << 10;

/** Every slab made (weakly): how ownedBuffers() tells a slab view from any other view. */
const slabs = new WeakSet<ArrayBuffer>();
const newSlab = () => {
  const made = new ArrayBuffer(SLAB_BYTES);
  slabs.add(made);
  return made;
};

let slab = newSlab();
let used = 0;

/** Where the next slice of `length` bytes starts (a fresh slab when this one is full). */
function carve(length: number): number {
  if (used + length > SLAB_BYTES) {
    slab = newSlab();
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

/** `view` itself, or a copy with a buffer of its own when `view` is a slice of a slab. */
function owned<T extends ArrayBufferView & { slice(): T }>(view: T): T {
  return slabs.has(view.buffer as ArrayBuffer) ? view.slice() : view;
}

/**
 * `data` as it may leave the engine for its embedder (PipelineSession's recvOutput,
 * PipelineRunner.run): arrays that are slices of a slab are copied into buffers of
 * their own, anything else is returned as it is (the same object). A slab view handed
 * out would carry the whole 64 KiB slab in every structured clone of it (postMessage
 * to a worker, IndexedDB), and transferring its buffer would detach every other frame
 * carved from the same slab. Inside the engine (node to node, sink ports, the
 * gateway's encoder) slices stay as they are: there nobody clones or transfers them.
 */
export function ownedBuffers(data: RuntimeData): RuntimeData {
  switch (data.kind) {
    case 'audio': {
      const samples = owned(data.samples);
      return samples === data.samples ? data : { ...data, samples };
    }
    case 'binary': {
      const bytes = owned(data.bytes);
      return bytes === data.bytes ? data : { ...data, bytes };
    }
    case 'video': {
      const pixels = owned(data.data);
      return pixels === data.data ? data : { ...data, data: pixels };
    }
    case 'tensor': {
      const array = owned(data.data as Float32Array);
      return array === (data.data as Float32Array)
        ? data
        : ({ ...data, data: array } as RuntimeData);
    }
    default:
      return data;
  }
}
