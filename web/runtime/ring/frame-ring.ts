/**
 * A single-producer single-consumer ring of variable-length frames on a
 * SharedArrayBuffer: the data path between workers. Each record is a 4-byte length
 * and the frame's bytes (a frame-codec frame, by convention), padded to 4 bytes.
 * A record never wraps around the end of the storage: when it would, the writer
 * fills the rest of the storage with a pad record (the reader skips it) and puts
 * the record at the start. So every frame lies in one piece in the ring: the
 * writer encodes a frame straight into it (writeFrame: one copy in) and the reader
 * decodes straight from it (readFrame: one copy out), and neither side ever
 * stages a wrapped frame in a temporary buffer.
 *
 * Indices: byte counters that only grow (mod 2^32); a position is `counter & mask`
 * into a storage whose length is a power of two (the requested capacity rounded
 * up). Masks rather than indices kept within the capacity, because 2^32 is a
 * multiple of every power of two: a position stays right across the counters'
 * wrap, `used` is one subtraction, and a counter does not come back to a value
 * for 2^32 bytes, so the drop-oldest compareExchange below cannot be fooled by a
 * read index that went round and came back (with indices kept within the
 * capacity it could, after one lap). The ring still holds at most the capacity
 * asked for (pad records count against it), kept in the shared control block.
 *
 * Concurrency contract: exactly one writer thread and one reader thread. The
 * writer owns the write index, the reader the read index, except under the
 * drop-oldest policy, where the writer may advance the read index with
 * compareExchange and the reader commits a read with compareExchange too (and
 * retries if the writer dropped the frame meanwhile). Nothing is ever lost
 * silently: every dropped frame is counted. A side notifies the other only when
 * it announced that it sleeps, so a steady stream costs no Atomics.notify per
 * frame. Every loop looks at the cancelled flag on each turn, and a record length
 * that cannot be right (with the read index not moving) is an error, not a retry.
 *
 * Frames skip the CRC here (RING_FRAME_CODEC): the ring is shared memory inside one
 * process, not a wire, so a CRC guards against nothing, and computing and checking
 * it was a quarter of each thread's busy time on a round trip through a worker.
 * writeFrame and its kin write CRC 0; readFrame and its kin do not read the field
 * (so a frame another writer sealed with a CRC reads the same). Every other check
 * of the codec, and every record-length check below, stays.
 */
import { RemoteMediaError } from '../../core/errors.ts';
import {
  type CodecOptions,
  decodeFrame,
  type Frame,
  type PreparedFrame,
  prepareFrame,
} from '../../core/frame-codec.ts';

/** How frames are sealed and checked inside a ring: no CRC (see the comment above). */
export const RING_FRAME_CODEC: CodecOptions = Object.freeze({ checksum: false });

/** What a writer does when the frame does not fit. */
export type OverrunPolicy = 'block' | 'drop-newest' | 'drop-oldest';

// Three cache lines of 16 Int32 slots: what the writer changes on every frame,
// what the reader changes, and flags that change rarely (read on every call, so
// kept apart from the counters that move). Each side keeps a private copy of the
// other's counter and reloads it only when the copy shows too little room (data).
const LINE = 16;
const WRITE = 0;
const FRAMES_WRITTEN = 1;
const HIGH_WATER = 2;
const DROPPED_FRAMES = 3;
const DROPPED_BYTES = 4;
const READ = LINE;
const FRAMES_READ = LINE + 1;
const CLOSED = 2 * LINE;
/** Set while the reader (writer) sleeps in Atomics.wait, so the other side notifies only then. */
const READER_WAITING = 2 * LINE + 1;
const WRITER_WAITING = 2 * LINE + 2;
/** Set by either side to end the stream abnormally: both sides stop at once. */
const CANCELLED = 2 * LINE + 3;
/** The capacity asked for, in bytes (the storage may be larger). */
const CAPACITY = 2 * LINE + 4;
const CONTROL_SLOTS = 3 * LINE;
/**
 * The longest a blocking read or write spins before it sleeps, by default. Waking
 * from Atomics.wait costs a futex wake-up (a few microseconds; more on a busy
 * machine), while the other side's next frame may be a microsecond away. But on
 * a machine with more runnable threads than cores, a spin holds the core the
 * other side needs: measured in Chromium on 2 busy cores, a 512-byte ping-pong
 * took 4.3 µs a hop sleeping at once and 11 µs spinning 1 µs first, 25 µs
 * spinning 20 µs. So the spin adapts (see spinUntil): it grows while spins end
 * in data and stops as soon as one ends in sleep.
 */
export const DEFAULT_SPIN_MICROS = 50;
/** The probe's spin, in ms: a few microseconds. */
const PROBE_SPIN_MS = 0.004;
/** While the spin is off, one wait in this many still tries a short one (to notice calm). */
const PROBE_EVERY = 32;
const CONTROL_BYTES = CONTROL_SLOTS * 4;
/** The length field of a pad record: skip to the start of the storage. */
const PAD = 0xffff_ffff;
/** Reserve results that are not a position. */
const NO_ROOM = -1;
const DROPPED = -2;
/**
 * Longest sleep between looks at the cancelled flag. cancel() notifies, but a side
 * that checked the flag just before it was set may sleep past that notify; this
 * bounds how late it notices. Sleeps end sooner whenever data moves.
 */
const CANCEL_CHECK_MS = 100;

export interface RingStats {
  capacity: number;
  /** Bytes held now (records and pad), and the most ever held. */
  fill: number;
  highWater: number;
  framesWritten: number;
  framesRead: number;
  droppedFrames: number;
  droppedBytes: number;
  closed: boolean;
}

export interface FrameRingOptions {
  /**
   * For tests only: where both byte counters start (mod 2^32, a multiple of 4),
   * e.g. just below 2^32 so that a short test crosses the counters' wrap. Default 0.
   */
  initialCounter?: number;
}

function record(length: number): number {
  return 4 + ((length + 3) & ~3);
}

/**
 * The shared memory of one ring; pass it to both sides (postMessage clones the
 * view). Any thread; allocates the buffer (call it once, at setup).
 */
export function createFrameRingBuffer(
  capacityBytes: number,
  options: FrameRingOptions = {},
): SharedArrayBuffer {
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
  const start = options.initialCounter ?? 0;
  if (!Number.isInteger(start) || (start >>> 0) % 4 !== 0) {
    throw new RemoteMediaError(
      'usage',
      `ring initialCounter must be an integer multiple of 4, found ${start}`,
    );
  }
  let storage = 64;
  while (storage < capacityBytes) storage *= 2;
  const buffer = new SharedArrayBuffer(CONTROL_BYTES + storage);
  const control = new Int32Array(buffer, 0, CONTROL_SLOTS);
  control[CAPACITY] = capacityBytes;
  control[WRITE] = start | 0;
  control[READ] = start | 0;
  return buffer;
}

/**
 * What both sides share. Constructing a side allocates a few views (do it at
 * setup); the methods say what they allocate.
 */
abstract class RingSide {
  protected readonly control: Int32Array;
  protected readonly data: Uint8Array;
  protected readonly view: DataView;
  protected readonly mask: number;
  /** The most bytes the ring holds, as asked for (records of at most this size fit). */
  readonly capacity: number;
  /**
   * The other side's counter as this side last saw it (the writer's copy of the
   * read counter, the reader's of the write counter). Counters only move forward,
   * so a stale copy only under-states the room (the data); a call that finds too
   * little reloads it. One view per side for the ring's life.
   */
  protected seenRead: number;
  protected seenWrite: number;
  /** The spin's ceiling, and its current length (adapted per wait). */
  private readonly maxSpinMs: number;
  private spinMs: number;
  private waitsSinceProbe = 0;

  constructor(buffer: SharedArrayBuffer, spinMicros: number) {
    this.control = new Int32Array(buffer, 0, CONTROL_SLOTS);
    this.data = new Uint8Array(buffer, CONTROL_BYTES);
    this.view = new DataView(buffer, CONTROL_BYTES);
    const storage = this.data.length;
    this.capacity = Atomics.load(this.control, CAPACITY);
    if ((storage & (storage - 1)) !== 0 || this.capacity < 64 || this.capacity > storage) {
      throw new RemoteMediaError(
        'usage',
        'a FrameRing needs a buffer made by createFrameRingBuffer (storage a power of two, capacity in its control block)',
      );
    }
    this.mask = storage - 1;
    if (!(spinMicros >= 0 && spinMicros <= 1e6)) {
      throw new RemoteMediaError(
        'usage',
        `ring spinMicros must be 0 to 1,000,000 microseconds, found ${spinMicros}`,
      );
    }
    this.maxSpinMs = spinMicros / 1000;
    this.spinMs = this.maxSpinMs;
    this.seenRead = Atomics.load(this.control, READ);
    this.seenWrite = Atomics.load(this.control, WRITE);
  }

  protected used(): number {
    return (Atomics.load(this.control, WRITE) - Atomics.load(this.control, READ)) >>> 0;
  }

  /**
   * Spins until control[slot] differs from `seen`, for the current spin length at
   * most (the clock read once per 64 looks); true if it did. Also stops on
   * cancel. Adaptive: a spin that ends in data doubles the next one (up to the
   * ceiling); one that ends in sleep turns spinning off (halving it instead kept
   * it spinning on busy cores: 7.0 µs a hop against 4.4 µs for no spin, in one
   * run); once off, every PROBE_EVERY-th wait tries a short spin again, so a
   * quiet machine (or a stream that speeds up) turns it back on.
   */
  protected spinUntil(slot: number, seen: number): boolean {
    let spinMs = this.spinMs;
    if (spinMs === 0) {
      if (this.maxSpinMs === 0 || ++this.waitsSinceProbe < PROBE_EVERY) return false;
      this.waitsSinceProbe = 0;
      spinMs = Math.min(PROBE_SPIN_MS, this.maxSpinMs);
    }
    const control = this.control;
    const until = performance.now() + spinMs;
    for (;;) {
      for (let i = 0; i < 64; i++) {
        if (Atomics.load(control, slot) !== seen) {
          this.spinMs = Math.min(this.maxSpinMs, spinMs * 2);
          return true;
        }
      }
      if (Atomics.load(control, CANCELLED) === 1 || performance.now() > until) {
        this.spinMs = 0;
        return false;
      }
    }
  }

  /**
   * The length field of the record at counter `read`, or PAD; throws if it cannot
   * be right while the read index still points there (a corrupted ring: looping
   * would spin for ever). Returns undefined when the read index moved meanwhile (a
   * drop-oldest writer took the record): look again.
   */
  protected recordAt(read: number, ready = this.used()): number | undefined {
    const length = this.view.getUint32(read & this.mask, true);
    if (length === PAD) return PAD;
    if (length <= this.capacity - 4 && record(length) <= ready) return length;
    if (Atomics.load(this.control, READ) !== read) return undefined;
    throw new RemoteMediaError(
      'protocol',
      `frame ring corrupted: record at byte counter ${read >>> 0} has length ${length}, ` +
        `but a ${this.capacity}-byte ring holding ${this.used()} bytes allows at most ` +
        `${Math.min(this.capacity, this.used()) - 4}`,
    );
  }

  /** Bytes from counter `read` to the end of the storage: what a pad record there covers. */
  protected tailFrom(counter: number): number {
    return this.mask + 1 - (counter & this.mask);
  }

  /**
   * Either side, any thread. Ends the stream abnormally (a failed or aborted
   * session): the other side's pending and later calls throw instead of waiting
   * forever. Never blocks, allocates nothing.
   */
  cancel(): void {
    Atomics.store(this.control, CANCELLED, 1);
    Atomics.notify(this.control, WRITE);
    Atomics.notify(this.control, READ);
  }

  /** Either side, any thread. Allocates nothing. */
  get cancelled(): boolean {
    return Atomics.load(this.control, CANCELLED) === 1;
  }

  protected throwIfCancelled(): void {
    if (Atomics.load(this.control, CANCELLED) === 1) {
      throw new RemoteMediaError('aborted', 'the ring was cancelled: the other side ended early');
    }
  }

  /**
   * Either side, any thread (figures read one by one, so only roughly consistent
   * while data moves). Never blocks; allocates the result object.
   */
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
 * The writing side: one thread only. tryWrite/tryWriteFrame never block;
 * write/writeFrame block with Atomics.wait (policy "block": workers only, never
 * the page or the worklet); writeAsync/writeFrameAsync wait with Atomics.waitAsync
 * and may be used anywhere.
 */
export class FrameRingWriter extends RingSide {
  /** `spinMicros`: how long write/writeFrame spin on a full ring before they sleep. */
  constructor(
    buffer: SharedArrayBuffer,
    readonly policy: OverrunPolicy = 'block',
    spinMicros = DEFAULT_SPIN_MICROS,
  ) {
    super(buffer, spinMicros);
  }

  /**
   * Writer thread. Copies the bytes in as one record if they fit now, applying the
   * drop policies; returns false only under "block" when there is no room (the
   * caller then waits). Never blocks; allocates nothing.
   */
  tryWrite(bytes: Uint8Array): boolean {
    const at = this.reserve(bytes.length);
    if (at < 0) return at === DROPPED;
    this.data.set(bytes, at + 4);
    this.commit(at, bytes.length);
    return true;
  }

  /**
   * Writer thread. Encodes the frame straight into the ring (one copy) if it fits
   * now; otherwise as tryWrite. Never blocks; the codec allocates a few small
   * objects (its plan and views), never a buffer the size of the frame.
   */
  tryWriteFrame(frame: Frame | PreparedFrame): boolean {
    const prepared = 'writeInto' in frame ? frame : prepareFrame(frame);
    const at = this.reserve(prepared.length);
    if (at < 0) return at === DROPPED;
    prepared.writeInto(this.data, at + 4, RING_FRAME_CODEC);
    this.commit(at, prepared.length);
    return true;
  }

  /**
   * Writer thread, where blocking is allowed (a worker). Blocks while the ring is
   * full (policy "block"), waking at least every 100 ms to look at the cancelled
   * flag; throws on cancel, close or timeout. Allocates nothing.
   */
  write(bytes: Uint8Array, timeoutMs = Number.POSITIVE_INFINITY): void {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      if (this.tryWrite(bytes)) return;
      if (this.spinUntil(READ, Atomics.load(this.control, READ))) continue;
      const read = this.announceWait();
      try {
        if (this.tryWrite(bytes)) return;
        this.sleep(read, deadline, timeoutMs);
      } finally {
        this.endWait();
      }
    }
  }

  /** Writer thread, a worker: writeFrame is to tryWriteFrame what write is to tryWrite. */
  writeFrame(frame: Frame, timeoutMs = Number.POSITIVE_INFINITY): void {
    const prepared = prepareFrame(frame);
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      if (this.tryWriteFrame(prepared)) return;
      if (this.spinUntil(READ, Atomics.load(this.control, READ))) continue;
      const read = this.announceWait();
      try {
        if (this.tryWriteFrame(prepared)) return;
        this.sleep(read, deadline, timeoutMs);
      } finally {
        this.endWait();
      }
    }
  }

  /**
   * Writer thread, any thread kind (the page too). Waits without blocking the
   * thread while the ring is full; allocates a promise per wait.
   */
  async writeAsync(bytes: Uint8Array): Promise<void> {
    for (;;) {
      if (this.tryWrite(bytes)) return;
      const read = this.announceWait();
      try {
        if (this.tryWrite(bytes)) return;
        await this.sleepAsync(read);
      } finally {
        this.endWait();
      }
    }
  }

  /** Writer thread, anywhere: writeFrameAsync is to tryWriteFrame what writeAsync is to tryWrite. */
  async writeFrameAsync(frame: Frame | PreparedFrame): Promise<void> {
    const prepared = 'writeInto' in frame ? frame : prepareFrame(frame);
    for (;;) {
      if (this.tryWriteFrame(prepared)) return;
      const read = this.announceWait();
      try {
        if (this.tryWriteFrame(prepared)) return;
        await this.sleepAsync(read);
      } finally {
        this.endWait();
      }
    }
  }

  /**
   * Writer thread (or a thread that owns the writer's end). End of stream: the
   * reader drains what is there, then sees the end. Never blocks, allocates nothing.
   */
  close(): void {
    Atomics.store(this.control, CLOSED, 1);
    Atomics.notify(this.control, WRITE);
  }

  /**
   * Announces the wait before the last look at the index: either the reader sees
   * the flag and notifies, or the writer's last try sees its new index (seq-cst).
   */
  private announceWait(): number {
    Atomics.store(this.control, WRITER_WAITING, 1);
    return Atomics.load(this.control, READ);
  }

  private endWait(): void {
    Atomics.store(this.control, WRITER_WAITING, 0);
  }

  /** Sleeps until the read index leaves `read`, 100 ms at most; throws past the deadline. */
  private sleep(read: number, deadline: number, timeoutMs: number): void {
    const left = deadline - performance.now();
    if (left <= 0)
      throw new RemoteMediaError('aborted', `ring write timed out after ${timeoutMs} ms`);
    Atomics.wait(this.control, READ, read, Math.min(left, CANCEL_CHECK_MS));
  }

  private async sleepAsync(read: number): Promise<void> {
    const waiting = Atomics.waitAsync(this.control, READ, read, CANCEL_CHECK_MS);
    if (waiting.async) await waiting.value;
  }

  /**
   * Room for a record of `length` bytes in one piece: its position in `data`, or
   * NO_ROOM (policy "block"), or DROPPED (counted). Places a pad record first when
   * the record would run past the end of the storage. Loops only while it makes
   * progress (a pad placed, an oldest frame dropped), and looks at the flags on
   * every turn.
   */
  private reserve(length: number): number {
    const needed = record(length);
    if (needed > this.capacity) {
      throw new RemoteMediaError(
        'usage',
        `a ${length}-byte frame cannot fit a ${this.capacity}-byte ring (at most ${this.capacity - 4} bytes)`,
      );
    }
    for (;;) {
      this.throwIfCancelled();
      if (Atomics.load(this.control, CLOSED) === 1) {
        throw new RemoteMediaError('session_closed', 'write to a closed ring');
      }
      const write = Atomics.load(this.control, WRITE);
      const tail = this.tailFrom(write);
      // Room for what comes first (a pad, or the record), from the cached read
      // counter; the real one is loaded only when that looks short.
      const first = needed > tail ? tail : needed;
      let room = this.capacity - ((write - this.seenRead) >>> 0);
      if (room < first) {
        this.seenRead = Atomics.load(this.control, READ);
        room = this.capacity - ((write - this.seenRead) >>> 0);
      }
      if (needed > tail) {
        if (room >= tail) {
          this.view.setUint32(write & this.mask, PAD, true);
          Atomics.store(this.control, WRITE, (write + tail) | 0);
          continue;
        }
      } else if (room >= needed) {
        return write & this.mask;
      }
      if (this.policy === 'block') return NO_ROOM;
      if (this.policy === 'drop-newest') {
        this.countDrop(length);
        return DROPPED;
      }
      this.dropOldest();
    }
  }

  private commit(at: number, length: number): void {
    const control = this.control;
    this.view.setUint32(at, length, true);
    const next = (Atomics.load(control, WRITE) + record(length)) | 0;
    Atomics.store(control, WRITE, next);
    Atomics.add(control, FRAMES_WRITTEN, 1);
    // The cached read counter over-states the fill; the real one is loaded only
    // when that estimate would raise the high-water mark.
    const highWater = Atomics.load(control, HIGH_WATER);
    if ((next - this.seenRead) >>> 0 > highWater) {
      this.seenRead = Atomics.load(control, READ);
      const fill = (next - this.seenRead) >>> 0;
      if (fill > highWater) Atomics.store(control, HIGH_WATER, fill);
    }
    if (Atomics.load(control, READER_WAITING) === 1) Atomics.notify(control, WRITE);
  }

  private countDrop(bytes: number): void {
    Atomics.add(this.control, DROPPED_FRAMES, 1);
    Atomics.add(this.control, DROPPED_BYTES, bytes);
  }

  /** Advances the read index past the oldest record, unless the reader just took it. */
  private dropOldest(): void {
    const read = Atomics.load(this.control, READ);
    if (read === Atomics.load(this.control, WRITE)) return;
    const length = this.recordAt(read);
    if (length === undefined) return;
    const skip = length === PAD ? this.tailFrom(read) : record(length);
    if (Atomics.compareExchange(this.control, READ, read, (read + skip) | 0) === read) {
      if (length !== PAD) this.countDrop(length);
    }
  }
}

/** Returned by reads once the writer closed the ring and every frame was read. */
export const RING_CLOSED: unique symbol = Symbol('ring closed');

/**
 * The reading side: one thread only. tryRead/tryReadFrame never block;
 * read/readFrame block with Atomics.wait (workers only, never the page or the
 * worklet); readAsync/readFrameAsync wait with Atomics.waitAsync and may be used
 * anywhere. Each read copies out what it returns, so the writer may reuse the
 * space at once.
 */
export class FrameRingReader extends RingSide {
  /** `spinMicros`: how long read/readFrame spin on an empty ring before they sleep. */
  constructor(buffer: SharedArrayBuffer, spinMicros = DEFAULT_SPIN_MICROS) {
    super(buffer, spinMicros);
  }

  /** Bound once, so that reads do not allocate a closure each. */
  private readonly copyOut = (at: number, length: number) => this.data.slice(at, at + length);
  private readonly decodeAt = (at: number, length: number) =>
    decodeFrame(this.data.subarray(at, at + length), RING_FRAME_CODEC);

  /**
   * Reader thread. The next record's bytes (a fresh copy: the only allocation),
   * undefined if none is there yet, or RING_CLOSED at the end. Never blocks.
   */
  tryRead(): Uint8Array | undefined | typeof RING_CLOSED {
    return this.take(this.copyOut);
  }

  /**
   * Reader thread. The next frame decoded straight from the ring (the codec copies
   * the payload out once: that copy and the decoded objects are what it
   * allocates), undefined if none is there yet, or RING_CLOSED. Never blocks.
   * A frame that does not decode is consumed and its frame_codec error thrown.
   */
  tryReadFrame(): Frame | undefined | typeof RING_CLOSED {
    return this.take(this.decodeAt);
  }

  /**
   * Reader thread, where blocking is allowed (a worker). Blocks until a record (or
   * the end) is there, waking at least every 100 ms to look at the cancelled flag;
   * throws on cancel or timeout. Allocates the returned copy.
   */
  read(timeoutMs = Number.POSITIVE_INFINITY): Uint8Array | typeof RING_CLOSED {
    return this.waitFor(this.copyOut, timeoutMs);
  }

  /** Reader thread, a worker: readFrame is to tryReadFrame what read is to tryRead. */
  readFrame(timeoutMs = Number.POSITIVE_INFINITY): Frame | typeof RING_CLOSED {
    return this.waitFor(this.decodeAt, timeoutMs);
  }

  /**
   * Reader thread, any thread kind (the page too). Waits without blocking the
   * thread; allocates the returned copy and a promise per wait.
   */
  readAsync(): Promise<Uint8Array | typeof RING_CLOSED> {
    return this.waitForAsync(this.copyOut);
  }

  /** Reader thread, anywhere: readFrameAsync is to tryReadFrame what readAsync is to tryRead. */
  readFrameAsync(): Promise<Frame | typeof RING_CLOSED> {
    return this.waitForAsync(this.decodeAt);
  }

  /**
   * Takes the next record with `open` (which must not keep a view of the ring).
   * Every turn of the loop looks at the cancelled flag, and a turn repeats only
   * after progress: a pad skipped, or the read index moved by a drop-oldest writer.
   */
  private take<T>(open: (at: number, length: number) => T): T | undefined | typeof RING_CLOSED {
    for (;;) {
      this.throwIfCancelled();
      const read = Atomics.load(this.control, READ);
      let ready = (this.seenWrite - read) >>> 0;
      if (ready === 0 || ready > this.capacity) {
        this.seenWrite = Atomics.load(this.control, WRITE);
        ready = (this.seenWrite - read) >>> 0;
      }
      if (ready === 0) {
        // Closed is checked after seeing the ring empty, and the ring checked again,
        // so a frame written just before close is never missed.
        if (Atomics.load(this.control, CLOSED) !== 1) return undefined;
        if (read === Atomics.load(this.control, WRITE)) return RING_CLOSED;
        continue;
      }
      const length = this.recordAt(read, ready);
      if (length === undefined) continue;
      if (length === PAD) {
        const next = (read + this.tailFrom(read)) | 0;
        if (Atomics.compareExchange(this.control, READ, read, next) === read) this.notifyWriter();
        continue;
      }
      let result: T;
      try {
        result = open((read & this.mask) + 4, length);
      } catch (error) {
        // Bytes a drop-oldest writer was overwriting, or a frame that is bad for real:
        // only the latter (the index did not move) is passed on, once consumed.
        if (!this.commit(read, length)) continue;
        throw error;
      }
      // Commit; fails only if a drop-oldest writer took this record meanwhile.
      if (this.commit(read, length)) return result;
    }
  }

  private commit(read: number, length: number): boolean {
    if (Atomics.compareExchange(this.control, READ, read, (read + record(length)) | 0) !== read) {
      return false;
    }
    Atomics.add(this.control, FRAMES_READ, 1);
    this.notifyWriter();
    return true;
  }

  private notifyWriter(): void {
    if (Atomics.load(this.control, WRITER_WAITING) === 1) Atomics.notify(this.control, READ);
  }

  private waitFor<T>(
    open: (at: number, length: number) => T,
    timeoutMs: number,
  ): T | typeof RING_CLOSED {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const got = this.take(open);
      if (got !== undefined) return got;
      // A short spin first: waking from Atomics.wait costs the OS's wake-up latency
      // (tens of microseconds), while a frame is often only microseconds away.
      if (this.spinUntil(WRITE, Atomics.load(this.control, WRITE))) continue;
      // Announce the wait, then look once more (see FrameRingWriter.write).
      Atomics.store(this.control, READER_WAITING, 1);
      const write = Atomics.load(this.control, WRITE);
      let again: T | undefined | typeof RING_CLOSED;
      try {
        again = this.take(open);
        const left = deadline - performance.now();
        if (again === undefined && left > 0) {
          Atomics.wait(this.control, WRITE, write, Math.min(left, CANCEL_CHECK_MS));
        } else if (again === undefined) {
          throw new RemoteMediaError('aborted', `ring read timed out after ${timeoutMs} ms`);
        }
      } finally {
        Atomics.store(this.control, READER_WAITING, 0);
      }
      if (again !== undefined) return again;
    }
  }

  private async waitForAsync<T>(
    open: (at: number, length: number) => T,
  ): Promise<T | typeof RING_CLOSED> {
    for (;;) {
      const got = this.take(open);
      if (got !== undefined) return got;
      Atomics.store(this.control, READER_WAITING, 1);
      const write = Atomics.load(this.control, WRITE);
      let again: T | undefined | typeof RING_CLOSED;
      try {
        again = this.take(open);
        if (again === undefined) {
          const waiting = Atomics.waitAsync(this.control, WRITE, write, CANCEL_CHECK_MS);
          if (waiting.async) await waiting.value;
        }
      } finally {
        Atomics.store(this.control, READER_WAITING, 0);
      }
      if (again !== undefined) return again;
    }
  }
}
