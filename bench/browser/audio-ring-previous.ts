/**
 * BENCHMARK ONLY: AudioRing as it was before its counters got cache lines of
 * their own and each side a cached copy of the other's (commit 7ade04d), kept
 * frozen so that the ring benchmark shows what that change is worth in the same
 * run. Not used by the runtime.
 */
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
import { RemoteMediaError } from '../../web/core/errors.ts';

// All on one cache line. Each side reads the other's counter on every call, so the
// line moves between the cores either way; putting each side's slots on its own
// line measured no different (Node worker_threads, 256 MiB in 128-sample blocks).
const WRITE = 0;
const READ = 1;
const CLOSED = 2;
const DROPPED = 3;
const UNDERRUN = 4;
const READER_WAITING = 5;
const CAPACITY = 6;
const SLOTS = 8;
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
 * not per block); every method below allocates nothing unless it says so.
 */
export class AudioRing {
  private readonly control: Int32Array;
  private readonly samples: Float32Array;
  private readonly mask: number;
  /** The most samples the ring holds (as requested; storage may be larger). */
  readonly capacity: number;

  constructor(buffer: SharedArrayBuffer) {
    this.control = new Int32Array(buffer, 0, SLOTS);
    this.samples = new Float32Array(buffer, SLOTS * 4);
    const storage = this.samples.length;
    this.capacity = Atomics.load(this.control, CAPACITY);
    if ((storage & (storage - 1)) !== 0 || this.capacity < 128 || this.capacity > storage) {
      throw new RemoteMediaError(
        'usage',
        'an AudioRing needs a buffer made by createAudioRingBuffer (storage a power of two, capacity in its control block)',
      );
    }
    this.mask = storage - 1;
  }

  /** Any side, any thread. Samples ready to read. Never blocks, allocates nothing. */
  available(): number {
    return (Atomics.load(this.control, WRITE) - Atomics.load(this.control, READ)) >>> 0;
  }

  /**
   * Writer only (the thread that produces samples, e.g. the capture worklet).
   * Copies as much of `input` as fits; the rest is dropped and counted. Never
   * blocks; allocates nothing.
   */
  write(input: Float32Array): number {
    const write = Atomics.load(this.control, WRITE);
    const room = this.capacity - ((write - Atomics.load(this.control, READ)) >>> 0);
    const count = Math.min(room, input.length);
    const start = write & this.mask;
    const first = Math.min(count, this.mask + 1 - start);
    // No subarray(): a view is an allocation on the audio thread. A whole block that
    // does not wrap goes in with one set(); otherwise element by element.
    const ring = this.samples;
    if (count === input.length && first === count) {
      ring.set(input, start);
    } else {
      for (let i = 0; i < first; i++) ring[start + i] = input[i]!;
      for (let i = first; i < count; i++) ring[i - first] = input[i]!;
    }
    Atomics.store(this.control, WRITE, (write + count) | 0);
    if (count < input.length) Atomics.add(this.control, DROPPED, input.length - count);
    if (Atomics.load(this.control, READER_WAITING) === 1) Atomics.notify(this.control, WRITE);
    return count;
  }

  /**
   * Reader only. Fills `output` from the ring; returns how many samples it got
   * (with `countUnderrun`, a shortfall is counted). Never blocks; allocates nothing.
   */
  read(output: Float32Array, countUnderrun = false): number {
    const read = Atomics.load(this.control, READ);
    const count = Math.min((Atomics.load(this.control, WRITE) - read) >>> 0, output.length);
    const start = read & this.mask;
    const first = Math.min(count, this.mask + 1 - start);
    const ring = this.samples;
    for (let i = 0; i < first; i++) output[i] = ring[start + i]!;
    for (let i = first; i < count; i++) output[i] = ring[i - first]!;
    Atomics.store(this.control, READ, (read + count) | 0);
    if (countUnderrun && count < output.length)
      Atomics.add(this.control, UNDERRUN, output.length - count);
    return count;
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
