/**
 * A single-producer single-consumer ring of float32 samples on a SharedArrayBuffer,
 * for the AudioWorklet side: write() and read() copy between a caller's array and
 * the ring and allocate nothing, so they are safe on the real-time audio thread.
 * Neither blocks: a full ring drops the newest samples and counts them; an empty
 * ring returns fewer samples and counts the shortfall as underrun.
 *
 * Indices: the write and read counters run free (mod 2^32) and a position is
 * `counter & mask` into a storage whose length is a power of two (the requested
 * capacity rounded up). Why masks rather than indices kept within the capacity:
 * 2^32 is a multiple of every power of two, so a counter's position stays right
 * across the 32-bit wrap (after about 25 h of 48 kHz mono, 12 h of stereo), and `used` is one
 * subtraction; `% capacity` with a capacity such as 96,000 jumps at the wrap and
 * put samples in the wrong places. The ring still holds at most the capacity that
 * was asked for (the room check uses it), so latency and drop behaviour are those
 * requested; only up to 2x the memory is spent. The capacity is kept in the shared
 * control block, so both sides agree on it.
 *
 * Threads: exactly one writer thread and one reader thread (any thread each: the
 * worklet, a worker or the page). Methods say "writer", "reader" or "any".
 */
// errors.ts, not the core's index: this module also runs in the AudioWorklet scope,
// which should not load the whole core.
import { RemoteMediaError } from '../../core/errors.ts';

// Three cache lines (16 Int32 slots each). The writer's counter and the reader's
// sit on lines of their own, and each side keeps a private copy of the other's
// counter, reloading it only when the copy says the ring is too full (too empty)
// for the call; so a steady stream moves a counter's line between the cores about
// once per ring's worth of data rather than on every call, and the writer's store
// does not invalidate the line the reader polls. The flags that change rarely
// (closed, a reader asleep, the capacity) share the third line. Measured against
// one shared line in Chromium: see docs/BENCHMARKS.md, Rings.
const LINE = 16;
const WRITE = 0;
const DROPPED = 1;
const READ = LINE;
const UNDERRUN = LINE + 1;
const CLOSED = 2 * LINE;
const READER_WAITING = 2 * LINE + 1;
const CAPACITY = 2 * LINE + 2;
const SLOTS = 3 * LINE;
const MAX_CAPACITY = 2 ** 28;

export interface AudioRingOptions {
  /**
   * For tests only: where both sample counters start (mod 2^32), e.g. just below
   * 2^32 so that a short test crosses the counters' wrap. Default 0.
   */
  initialCounter?: number;
}

/** The smallest power of two at least `n`. */
function powerOfTwoAtLeast(n: number): number {
  let size = 1;
  while (size < n) size *= 2;
  return size;
}

/**
 * The shared memory of one ring holding up to `capacitySamples` samples. Any thread;
 * allocates the buffer (call it once, at setup).
 */
export function createAudioRingBuffer(
  capacitySamples: number,
  options: AudioRingOptions = {},
): SharedArrayBuffer {
  if (
    !Number.isInteger(capacitySamples) ||
    capacitySamples < 128 ||
    capacitySamples > MAX_CAPACITY
  ) {
    throw new RemoteMediaError(
      'usage',
      `audio ring capacity must be 128 to 2^28 samples, found ${capacitySamples}`,
    );
  }
  const start = options.initialCounter ?? 0;
  if (!Number.isInteger(start)) {
    throw new RemoteMediaError(
      'usage',
      `audio ring initialCounter must be an integer, found ${start}`,
    );
  }
  const buffer = new SharedArrayBuffer(SLOTS * 4 + powerOfTwoAtLeast(capacitySamples) * 4);
  const control = new Int32Array(buffer, 0, SLOTS);
  control[CAPACITY] = capacitySamples;
  control[WRITE] = start | 0;
  control[READ] = start | 0;
  return buffer;
}

/**
 * One side's view of a ring. Constructing one allocates two views (do it at setup,
 * not per block); every method below allocates nothing unless it says so. The
 * writer and the reader each use one view for the ring's whole life: a view
 * caches the other side's counter (see write/read).
 */
export class AudioRing {
  private readonly control: Int32Array;
  private readonly samples: Float32Array;
  private readonly mask: number;
  /** The most samples the ring holds (as requested; storage may be larger). */
  readonly capacity: number;
  /**
   * The last read counter this view saw (used when writing) and the last write
   * counter (used when reading). Stale copies only ever under-state the room (the
   * data), because the other side's counter only moves forward: a call that
   * finds too little reloads the real one, so the cache never loses a sample.
   */
  private seenRead: number;
  private seenWrite: number;
  /**
   * The reader copies out two samples at a time through Float64Array views (half
   * the loop turns; measured 2-3x quicker than a float32 loop or ringbuf.js's
   * unrolled one, as quick as TypedArray.set, which would need a subarray view per
   * call). The view on the caller's array is made once, the second time in a row
   * it passes the same array (a real-time caller reuses one), so reads allocate
   * nothing; null when that array is not 8-byte aligned.
   */
  private readonly pairs: Float64Array;
  private lastOutput: Float32Array | undefined;
  private lastPairs: Float64Array | null | undefined;

  constructor(buffer: SharedArrayBuffer) {
    this.control = new Int32Array(buffer, 0, SLOTS);
    this.samples = new Float32Array(buffer, SLOTS * 4);
    const storage = this.samples.length;
    this.pairs = new Float64Array(buffer, SLOTS * 4, storage >> 1);
    this.capacity = Atomics.load(this.control, CAPACITY);
    if ((storage & (storage - 1)) !== 0 || this.capacity < 128 || this.capacity > storage) {
      throw new RemoteMediaError(
        'usage',
        'an AudioRing needs a buffer made by createAudioRingBuffer (storage a power of two, capacity in its control block)',
      );
    }
    this.mask = storage - 1;
    this.seenRead = Atomics.load(this.control, READ);
    this.seenWrite = Atomics.load(this.control, WRITE);
  }

  /** Any side, any thread. Samples ready to read (both counters loaded afresh). Never blocks, allocates nothing. */
  available(): number {
    return (Atomics.load(this.control, WRITE) - Atomics.load(this.control, READ)) >>> 0;
  }

  /**
   * Writer only, for a producer that can wait (back-pressure) rather than drop:
   * writes the whole block if it fits now and returns true, else writes nothing,
   * counts nothing and returns false. Never blocks, allocates nothing.
   */
  tryWrite(input: Float32Array): boolean {
    const write = Atomics.load(this.control, WRITE);
    if (this.capacity - ((write - this.seenRead) >>> 0) < input.length) {
      this.seenRead = Atomics.load(this.control, READ);
      if (this.capacity - ((write - this.seenRead) >>> 0) < input.length) return false;
    }
    this.write(input);
    return true;
  }

  /**
   * Writer only (the thread that produces samples, e.g. the capture worklet).
   * Copies as much of `input` as fits; the rest is dropped and counted. Never
   * blocks; allocates nothing (no views: TypedArray.set for a block that does not
   * wrap, an index loop for one that does). Notifies only a reader that said it
   * sleeps.
   */
  write(input: Float32Array): number {
    const control = this.control;
    const write = Atomics.load(control, WRITE);
    const length = input.length;
    let room = this.capacity - ((write - this.seenRead) >>> 0);
    if (room < length) {
      this.seenRead = Atomics.load(control, READ);
      room = this.capacity - ((write - this.seenRead) >>> 0);
    }
    const count = room < length ? room : length;
    const start = write & this.mask;
    const first = this.mask + 1 - start;
    const ring = this.samples;
    if (count === length && count <= first) {
      ring.set(input, start);
    } else {
      const end = count < first ? count : first;
      for (let i = 0; i < end; i++) ring[start + i] = input[i]!;
      for (let i = end; i < count; i++) ring[i - end] = input[i]!;
    }
    Atomics.store(control, WRITE, (write + count) | 0);
    if (count < length) Atomics.add(control, DROPPED, length - count);
    if (Atomics.load(control, READER_WAITING) !== 0) Atomics.notify(control, WRITE);
    return count;
  }

  /**
   * Reader only. Fills `output` from the ring; returns how many samples it got
   * (with `countUnderrun`, a shortfall is counted). Reloads the writer's counter
   * only when the cached one shows too little. Never blocks; allocates nothing.
   */
  read(output: Float32Array, countUnderrun = false): number {
    const control = this.control;
    const read = Atomics.load(control, READ);
    const length = output.length;
    let ready = (this.seenWrite - read) >>> 0;
    if (ready < length || ready > this.capacity) {
      this.seenWrite = Atomics.load(control, WRITE);
      ready = (this.seenWrite - read) >>> 0;
    }
    const count = ready < length ? ready : length;
    const start = read & this.mask;
    const first = this.mask + 1 - start;
    const end = count < first ? count : first;
    const out = this.pairsOf(output);
    if (out !== null && ((start | count) & 1) === 0) {
      // Both spans even (the storage is a power of two and start is even).
      const ring = this.pairs;
      const from = start >> 1;
      const half = end >> 1;
      const all = count >> 1;
      for (let i = 0; i < half; i++) out[i] = ring[from + i]!;
      for (let i = half; i < all; i++) out[i] = ring[i - half]!;
    } else {
      const ring = this.samples;
      for (let i = 0; i < end; i++) output[i] = ring[start + i]!;
      for (let i = end; i < count; i++) output[i] = ring[i - end]!;
    }
    Atomics.store(control, READ, (read + count) | 0);
    if (countUnderrun && count < length) Atomics.add(control, UNDERRUN, length - count);
    return count;
  }

  /** The Float64 view on `output` for read(), or null (see `pairs`). */
  private pairsOf(output: Float32Array): Float64Array | null {
    if (output !== this.lastOutput) {
      this.lastOutput = output;
      this.lastPairs = undefined;
      return null;
    }
    let pairs = this.lastPairs;
    if (pairs === undefined) {
      pairs =
        (output.byteOffset & 7) === 0
          ? new Float64Array(output.buffer, output.byteOffset, output.length >> 1)
          : null;
      this.lastPairs = pairs;
    }
    return pairs;
  }

  /**
   * Reader only, on a thread that may block (a worker; never the page or the
   * worklet): blocks with Atomics.wait until at least `count` samples are there,
   * the ring is closed or the timeout passes; true if the samples are there.
   * Allocates nothing. Every loop looks at the closed flag before it sleeps.
   */
  waitFor(count: number, timeoutMs = Number.POSITIVE_INFINITY): boolean {
    const deadline = performance.now() + timeoutMs;
    while (this.available() < count && !this.closed) {
      // Announce the wait, then look once more: the writer either sees the flag and
      // notifies, or its new index is seen here (all seq-cst).
      Atomics.store(this.control, READER_WAITING, 1);
      const write = Atomics.load(this.control, WRITE);
      const left = deadline - performance.now();
      if (this.available() < count && !this.closed && left > 0)
        Atomics.wait(this.control, WRITE, write, left);
      Atomics.store(this.control, READER_WAITING, 0);
      if (left <= 0) break;
    }
    return this.available() >= count;
  }

  /**
   * Reader only, any thread: resolves once at least `count` samples are there or
   * the ring is closed. Sleeps with Atomics.waitAsync, never spins, never blocks
   * the thread; allocates a promise per wait (not for the audio thread).
   */
  async waitForAsync(count: number): Promise<void> {
    while (this.available() < count && !this.closed) {
      Atomics.store(this.control, READER_WAITING, 1);
      const write = Atomics.load(this.control, WRITE);
      if (this.available() < count && !this.closed) {
        const waiting = Atomics.waitAsync(this.control, WRITE, write);
        if (waiting.async) await waiting.value;
      }
      Atomics.store(this.control, READER_WAITING, 0);
    }
  }

  /**
   * Any side. Samples written since the ring was made, mod 2^32 (from
   * `initialCounter`): what the writer delivered. Allocates nothing.
   */
  get written(): number {
    return Atomics.load(this.control, WRITE) >>> 0;
  }

  /**
   * Either side, any thread (normally the writer, at the end of the stream; the
   * reader when it stops listening). Wakes a waiting reader. Never blocks,
   * allocates nothing.
   */
  close(): void {
    Atomics.store(this.control, CLOSED, 1);
    Atomics.notify(this.control, WRITE);
  }

  /** Any side. Never blocks, allocates nothing. */
  get closed(): boolean {
    return Atomics.load(this.control, CLOSED) === 1;
  }

  /** Any side: samples the writer could not fit. Allocates nothing. */
  get droppedSamples(): number {
    return Atomics.load(this.control, DROPPED);
  }

  /** Any side: samples the reader asked for (counted) and did not get. Allocates nothing. */
  get underrunSamples(): number {
    return Atomics.load(this.control, UNDERRUN);
  }
}
