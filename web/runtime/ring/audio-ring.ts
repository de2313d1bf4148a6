/**
 * A single-producer single-consumer ring of float32 samples on a SharedArrayBuffer,
 * for the AudioWorklet side: write() and read() copy between a caller's array and
 * the ring and allocate nothing, so they are safe on the real-time audio thread.
 * Neither blocks: a full ring drops the newest samples and counts them; an empty
 * ring returns fewer samples and counts the shortfall as underrun.
 */
// errors.ts, not the core's index: this module also runs in the AudioWorklet scope,
// which should not load the whole core.
import { RemoteMediaError } from '../../core/errors.ts';

const WRITE = 0;
const READ = 1;
const CLOSED = 2;
const DROPPED = 3;
const UNDERRUN = 4;
const READER_WAITING = 5;
const SLOTS = 8;

export function createAudioRingBuffer(capacitySamples: number): SharedArrayBuffer {
  if (!Number.isInteger(capacitySamples) || capacitySamples < 128 || capacitySamples > 2 ** 28) {
    throw new RemoteMediaError(
      'usage',
      `audio ring capacity must be 128 to 2^28 samples, found ${capacitySamples}`,
    );
  }
  return new SharedArrayBuffer(SLOTS * 4 + capacitySamples * 4);
}

export class AudioRing {
  private readonly control: Int32Array;
  private readonly samples: Float32Array;
  readonly capacity: number;

  constructor(buffer: SharedArrayBuffer) {
    this.control = new Int32Array(buffer, 0, SLOTS);
    this.samples = new Float32Array(buffer, SLOTS * 4);
    this.capacity = this.samples.length;
  }

  /** Samples ready to read. */
  available(): number {
    return (Atomics.load(this.control, WRITE) - Atomics.load(this.control, READ)) >>> 0;
  }

  /** Writer only. Copies as much of `input` as fits; the rest is dropped and counted. */
  write(input: Float32Array): number {
    const write = Atomics.load(this.control, WRITE);
    const room = this.capacity - this.available();
    const count = Math.min(room, input.length);
    const start = (write >>> 0) % this.capacity;
    const first = Math.min(count, this.capacity - start);
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

  /** Reader only. Fills `output` from the ring; returns how many samples it got. */
  read(output: Float32Array, countUnderrun = false): number {
    const read = Atomics.load(this.control, READ);
    const count = Math.min(this.available(), output.length);
    const start = (read >>> 0) % this.capacity;
    const first = Math.min(count, this.capacity - start);
    const ring = this.samples;
    for (let i = 0; i < first; i++) output[i] = ring[start + i]!;
    for (let i = first; i < count; i++) output[i] = ring[i - first]!;
    Atomics.store(this.control, READ, (read + count) | 0);
    if (countUnderrun && count < output.length)
      Atomics.add(this.control, UNDERRUN, output.length - count);
    return count;
  }

  /** Reader only, from a worker: blocks until at least `count` samples or the end. */
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
   * Reader only, anywhere: resolves once at least `count` samples are there or the
   * writer closed the ring. Sleeps with Atomics.waitAsync, never spins.
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

  /** Samples written since the ring was made (mod 2^32): what the writer delivered. */
  get written(): number {
    return Atomics.load(this.control, WRITE) >>> 0;
  }

  close(): void {
    Atomics.store(this.control, CLOSED, 1);
    Atomics.notify(this.control, WRITE);
  }

  get closed(): boolean {
    return Atomics.load(this.control, CLOSED) === 1;
  }

  get droppedSamples(): number {
    return Atomics.load(this.control, DROPPED);
  }

  get underrunSamples(): number {
    return Atomics.load(this.control, UNDERRUN);
  }
}
