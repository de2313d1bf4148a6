/**
 * A single-producer single-consumer ring of variable-length frames on a
 * SharedArrayBuffer: the data path between workers. Each record is a 4-byte length
 * and the frame's bytes (a frame-codec frame, by convention), padded to 4 bytes;
 * records wrap around the end of the buffer.
 *
 * Concurrency contract: exactly one writer thread and one reader thread. Indices are
 * byte counters that only grow (mod 2^32), published with Atomics; the writer owns
 * the write index, the reader the read index, except under the drop-oldest policy,
 * where the writer may advance the read index with compareExchange and the reader
 * commits a read with compareExchange too (and retries if the writer dropped the
 * frame meanwhile). Nothing is ever lost silently: every dropped frame is counted.
 * A side notifies the other only when it announced that it sleeps, so a steady
 * stream costs no Atomics.notify per frame.
 */
import { RemoteMediaError } from '../../core/internal.ts';

/** What a writer does when the frame does not fit. */
export type OverrunPolicy = 'block' | 'drop-newest' | 'drop-oldest';

const WRITE = 0;
const READ = 1;
const CLOSED = 2;
const DROPPED_FRAMES = 3;
const DROPPED_BYTES = 4;
const HIGH_WATER = 5;
const FRAMES_WRITTEN = 6;
const FRAMES_READ = 7;
/** Set while the reader (writer) sleeps in Atomics.wait, so the other side notifies only then. */
const READER_WAITING = 8;
const WRITER_WAITING = 9;
/** Set by either side to end the stream abnormally: both sides stop at once. */
const CANCELLED = 10;
const CONTROL_SLOTS = 16;
/** Index checks before sleeping: a few microseconds of spinning. */
const SPIN_CHECKS = 2000;
const CONTROL_BYTES = CONTROL_SLOTS * 4;
/**
 * Longest sleep between looks at the cancelled flag. cancel() notifies, but a side
 * that checked the flag just before it was set may sleep past that notify; this
 * bounds how late it notices. Sleeps end sooner whenever data moves.
 */
const CANCEL_CHECK_MS = 100;

export interface RingStats {
  capacity: number;
  /** Bytes held now, and the most ever held. */
  fill: number;
  highWater: number;
  framesWritten: number;
  framesRead: number;
  droppedFrames: number;
  droppedBytes: number;
  closed: boolean;
}

function record(length: number): number {
  return 4 + ((length + 3) & ~3);
}

/** The shared memory of one ring; pass it to both sides (postMessage clones the view). */
export function createFrameRingBuffer(capacityBytes: number): SharedArrayBuffer {
  if (
    !Number.isInteger(capacityBytes) ||
    capacityBytes < 64 ||
    capacityBytes % 4 !== 0 ||
    capacityBytes > 2 ** 30
  ) {
    throw new RemoteMediaError(
      'usage',
      `ring capacity must be a multiple of 4 from 64 bytes to 1 GiB, found ${capacityBytes}`,
    );
  }
  return new SharedArrayBuffer(CONTROL_BYTES + capacityBytes);
}

abstract class RingSide {
  protected readonly control: Int32Array;
  protected readonly data: Uint8Array;
  protected readonly view: DataView;
  readonly capacity: number;

  constructor(buffer: SharedArrayBuffer) {
    this.control = new Int32Array(buffer, 0, CONTROL_SLOTS);
    this.data = new Uint8Array(buffer, CONTROL_BYTES);
    this.view = new DataView(buffer, CONTROL_BYTES);
    this.capacity = this.data.length;
  }

  protected used(): number {
    return (Atomics.load(this.control, WRITE) - Atomics.load(this.control, READ)) >>> 0;
  }

  /** The length field of the record at byte counter `at`. */
  protected lengthAt(at: number): number {
    return this.view.getUint32((at >>> 0) % this.capacity, true);
  }

  /** Spins briefly until control[slot] differs from `seen`; true if it did. */
  protected spinUntil(slot: number, seen: number): boolean {
    for (let i = 0; i < SPIN_CHECKS; i++) {
      if (Atomics.load(this.control, slot) !== seen) return true;
    }
    return false;
  }

  /**
   * Ends the stream abnormally from either side (a failed or aborted session): the
   * other side's pending and later calls throw instead of waiting forever.
   */
  cancel(): void {
    Atomics.store(this.control, CANCELLED, 1);
    Atomics.notify(this.control, WRITE);
    Atomics.notify(this.control, READ);
  }

  get cancelled(): boolean {
    return Atomics.load(this.control, CANCELLED) === 1;
  }

  protected throwIfCancelled(): void {
    if (Atomics.load(this.control, CANCELLED) === 1) {
      throw new RemoteMediaError('aborted', 'the ring was cancelled: the other side ended early');
    }
  }

  stats(): RingStats {
    const c = this.control;
    return {
      capacity: this.capacity,
      fill: this.used(),
      highWater: Atomics.load(c, HIGH_WATER),
      framesWritten: Atomics.load(c, FRAMES_WRITTEN),
      framesRead: Atomics.load(c, FRAMES_READ),
      droppedFrames: Atomics.load(c, DROPPED_FRAMES),
      droppedBytes: Atomics.load(c, DROPPED_BYTES),
      closed: Atomics.load(c, CLOSED) === 1,
    };
  }
}

/**
 * The writing side. write() may block (policy "block", with Atomics.wait: only
 * where blocking is allowed, i.e. not the main thread); writeAsync() waits with
 * Atomics.waitAsync instead and may be used anywhere. Allocates nothing.
 */
export class FrameRingWriter extends RingSide {
  constructor(
    buffer: SharedArrayBuffer,
    readonly policy: OverrunPolicy = 'block',
  ) {
    super(buffer);
  }

  /**
   * Writes a frame if it fits now, applying the drop policies; returns false only
   * under "block" when there is no room (the caller then waits).
   */
  tryWrite(frame: Uint8Array): boolean {
    const needed = record(frame.length);
    if (needed > this.capacity) {
      throw new RemoteMediaError(
        'usage',
        `a ${frame.length}-byte frame cannot fit a ${this.capacity}-byte ring`,
      );
    }
    this.throwIfCancelled();
    if (Atomics.load(this.control, CLOSED) === 1) {
      throw new RemoteMediaError('session_closed', 'write to a closed ring');
    }
    while (this.capacity - this.used() < needed) {
      if (this.policy === 'block') return false;
      if (this.policy === 'drop-newest') {
        this.countDrop(frame.length);
        return true;
      }
      this.dropOldest();
    }
    const write = Atomics.load(this.control, WRITE);
    this.view.setUint32((write >>> 0) % this.capacity, frame.length, true);
    this.copyIn(frame, (write + 4) >>> 0);
    Atomics.store(this.control, WRITE, (write + needed) | 0);
    Atomics.add(this.control, FRAMES_WRITTEN, 1);
    const fill = this.used();
    if (fill > Atomics.load(this.control, HIGH_WATER)) {
      Atomics.store(this.control, HIGH_WATER, fill);
    }
    if (Atomics.load(this.control, READER_WAITING) === 1) Atomics.notify(this.control, WRITE);
    return true;
  }

  /** Blocks while the ring is full (policy "block"); not on the main thread. */
  write(frame: Uint8Array, timeoutMs = Number.POSITIVE_INFINITY): void {
    const deadline = performance.now() + timeoutMs;
    while (!this.tryWrite(frame)) {
      if (this.spinUntil(READ, Atomics.load(this.control, READ))) continue;
      // Announce the wait before the last look at the index: either the reader sees
      // the flag and notifies, or this side sees the reader's new index (all seq-cst).
      Atomics.store(this.control, WRITER_WAITING, 1);
      const read = Atomics.load(this.control, READ);
      const left = deadline - performance.now();
      if (this.capacity - this.used() < record(frame.length) && left > 0) {
        Atomics.wait(this.control, READ, read, Math.min(left, CANCEL_CHECK_MS));
      }
      Atomics.store(this.control, WRITER_WAITING, 0);
      if (left <= 0) {
        throw new RemoteMediaError('aborted', `ring write timed out after ${timeoutMs} ms`);
      }
    }
  }

  /** Waits without blocking the thread while the ring is full. */
  async writeAsync(frame: Uint8Array): Promise<void> {
    while (!this.tryWrite(frame)) {
      Atomics.store(this.control, WRITER_WAITING, 1);
      const read = Atomics.load(this.control, READ);
      if (this.capacity - this.used() < record(frame.length)) {
        const waiting = Atomics.waitAsync(this.control, READ, read, CANCEL_CHECK_MS);
        if (waiting.async) await waiting.value;
      }
      Atomics.store(this.control, WRITER_WAITING, 0);
    }
  }

  /** End of stream: the reader drains what is there, then sees the end. */
  close(): void {
    Atomics.store(this.control, CLOSED, 1);
    Atomics.notify(this.control, WRITE);
  }

  private countDrop(bytes: number): void {
    Atomics.add(this.control, DROPPED_FRAMES, 1);
    Atomics.add(this.control, DROPPED_BYTES, bytes);
  }

  /** Advances the read index past the oldest frame, unless the reader just took it. */
  private dropOldest(): void {
    const read = Atomics.load(this.control, READ);
    if (read === Atomics.load(this.control, WRITE)) return;
    const length = this.lengthAt(read);
    if (Atomics.compareExchange(this.control, READ, read, (read + record(length)) | 0) === read) {
      this.countDrop(length);
    }
  }

  private copyIn(frame: Uint8Array, at: number): void {
    const start = at % this.capacity;
    const first = Math.min(frame.length, this.capacity - start);
    this.data.set(first === frame.length ? frame : frame.subarray(0, first), start);
    if (first < frame.length) this.data.set(frame.subarray(first), 0);
  }
}

/** Returned by reads once the writer closed the ring and every frame was read. */
export const RING_CLOSED: unique symbol = Symbol('ring closed');

/**
 * The reading side. read() blocks with Atomics.wait (workers only); readAsync()
 * waits with Atomics.waitAsync. Each read copies the frame out, so the writer may
 * reuse the space at once; the copy is the only allocation.
 */
export class FrameRingReader extends RingSide {
  /** The next frame, undefined if none is there yet, or RING_CLOSED at the end. */
  tryRead(): Uint8Array | undefined | typeof RING_CLOSED {
    this.throwIfCancelled();
    for (;;) {
      const read = Atomics.load(this.control, READ);
      if (read === Atomics.load(this.control, WRITE)) {
        // Closed is checked after seeing the ring empty, and the ring checked again,
        // so a frame written just before close is never missed.
        if (Atomics.load(this.control, CLOSED) !== 1) return undefined;
        return read === Atomics.load(this.control, WRITE) ? RING_CLOSED : this.tryRead();
      }
      const length = this.lengthAt(read);
      // A drop-oldest writer may be overwriting this record: a length that cannot be
      // right means the read index has moved; look again.
      if (record(length) > this.capacity) continue;
      const frame = this.copyOut((read + 4) >>> 0, length);
      // Commit; fails only if a drop-oldest writer took this frame meanwhile.
      if (Atomics.compareExchange(this.control, READ, read, (read + record(length)) | 0) === read) {
        Atomics.add(this.control, FRAMES_READ, 1);
        if (Atomics.load(this.control, WRITER_WAITING) === 1) Atomics.notify(this.control, READ);
        return frame;
      }
    }
  }

  /** Blocks until a frame (or the end) is there; not on the main thread. */
  read(timeoutMs = Number.POSITIVE_INFINITY): Uint8Array | typeof RING_CLOSED {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const frame = this.tryRead();
      if (frame !== undefined) return frame;
      // A short spin first: waking from Atomics.wait costs the OS's wake-up latency
      // (tens of microseconds), while a frame is often only microseconds away.
      if (this.spinUntil(WRITE, Atomics.load(this.control, WRITE))) continue;
      // Announce the wait, then look once more (see write()).
      Atomics.store(this.control, READER_WAITING, 1);
      const write = Atomics.load(this.control, WRITE);
      const again = this.tryRead();
      const left = deadline - performance.now();
      if (again === undefined && left > 0) {
        Atomics.wait(this.control, WRITE, write, Math.min(left, CANCEL_CHECK_MS));
      }
      Atomics.store(this.control, READER_WAITING, 0);
      if (again !== undefined) return again;
      if (left <= 0) {
        throw new RemoteMediaError('aborted', `ring read timed out after ${timeoutMs} ms`);
      }
    }
  }

  async readAsync(): Promise<Uint8Array | typeof RING_CLOSED> {
    for (;;) {
      const frame = this.tryRead();
      if (frame !== undefined) return frame;
      Atomics.store(this.control, READER_WAITING, 1);
      const write = Atomics.load(this.control, WRITE);
      const again = this.tryRead();
      if (again === undefined) {
        const waiting = Atomics.waitAsync(this.control, WRITE, write, CANCEL_CHECK_MS);
        if (waiting.async) await waiting.value;
      }
      Atomics.store(this.control, READER_WAITING, 0);
      if (again !== undefined) return again;
    }
  }
  private copyOut(at: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    const start = at % this.capacity;
    const first = Math.min(length, this.capacity - start);
    out.set(this.data.subarray(start, start + first));
    if (first < length) out.set(this.data.subarray(0, length - first), first);
    return out;
  }
}
