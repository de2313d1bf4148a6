/**
 * A single-producer single-consumer ring of variable-length frames on a
 * SharedArrayBuffer: the data path between workers. Each record is a 4-byte length
 * and the frame's bytes (a frame-codec frame, by convention), padded to 8 bytes,
 * in a storage that starts 4 bytes past an 8-byte boundary: so frames start
 * 8-aligned in memory (see DATA_OFFSET) when the counters start at a multiple of 8.
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
 * it announced that it sleeps (a writer that waits for room, only once a quarter
 * of the ring is free), so a steady stream costs no Atomics.notify per frame (a
 * writer given the reading thread's doorbell, doorbell.ts, rings it likewise,
 * only while that thread sleeps on it); a
 * blocking wait first spins for a bounded time when spinning has lately been
 * quicker than sleeping (DEFAULT_SPIN_MICROS). Sleeps are on wake words that
 * data, close and cancel all change, so no wake-up is lost. Every loop looks at
 * the cancelled flag on each turn, and a record length that cannot be right
 * (with the read index not moving) is an error, not a retry.
 *
 * Frames skip the CRC here (RING_FRAME_CODEC): the ring is shared memory inside one
 * process, not a wire, so a CRC guards against nothing, and computing and checking
 * it was a quarter of each thread's busy time on a round trip through a worker.
 * writeFrame and its kin write CRC 0; readFrame and its kin do not read the field
 * (so a frame another writer sealed with a CRC reads the same). Every other check
 * of the codec, and every record-length check below, stays.
 */
import { slabBytes } from '../../core/buffer-slab.ts';
import { RemoteMediaError } from '../../core/errors.ts';
import { Doorbell } from './doorbell.ts';
import {
  type CodecOptions,
  decodeFrame,
  type Frame,
  type PreparedFrame,
  prepareFrame,
} from '../../core/frame-codec.ts';

/** How frames are sealed and checked inside a ring: no CRC (see the comment above). */
export const RING_FRAME_CODEC: CodecOptions = Object.freeze({ checksum: false });
/**
 * RING_FRAME_CODEC for a reader whose items stay inside the engine (an island's
 * inputs): payloads decoded into slices of buffer-slab.ts's 64 KiB slabs, one
 * ArrayBuffer per dozen or so 20 ms frames instead of one per frame (in Chromium a
 * 3,840-byte ArrayBuffer cost 4-7 µs against 0.3-1 µs for the copy into a slab, and
 * the GC's threads paid again for each). Never for items the embedder gets: a slab
 * view would carry the whole slab in a clone (see ownedBuffers).
 */
export const RING_SLAB_CODEC: CodecOptions = Object.freeze({
  checksum: false,
  allocate: slabBytes,
});

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
/**
 * Set while the reader sleeps (Atomics.wait or waitAsync), so the writer notifies
 * only then: a reader that is awake or spinning costs the writer no notify. The
 * writer clears it as it notifies (compareExchange), so one announcement costs one
 * notify however many frames come before the reader is back (see commit).
 */
const READER_WAITING = 2 * LINE + 1;
/**
 * While the writer sleeps on a full ring: the room, in bytes, it waits for (0
 * while awake). The reader notifies once that much is free, not on every frame it
 * takes, so a writer that got ahead is woken once per batch of frames; it clears
 * the word as it notifies, so that batch costs one notify (see notifyWriter).
 */
const WRITER_WAITING = 2 * LINE + 2;
/** Set by either side to end the stream abnormally: both sides stop at once. */
const CANCELLED = 2 * LINE + 3;
/** The capacity asked for, in bytes (the storage may be larger). */
const CAPACITY = 2 * LINE + 4;
/**
 * The words a sleeping reader (writer) waits on: bumped by the other side when it
 * finds the sleeper announced (READER_WAITING, WRITER_WAITING) and by close and
 * cancel. Waiting on a word that close and cancel change too (not on the data
 * counter) is what keeps their wake-up from being lost: see waitFor.
 */
const READER_WAKE = 2 * LINE + 5;
const WRITER_WAKE = 2 * LINE + 6;
/**
 * Sleeps that ended by their safety timeout although what they waited for was
 * there: a wake-up lost (nobody notified). Counted for tests and diagnostics; 0
 * unless the protocol below is broken (or a side was descheduled for a second).
 */
const LATE_WAKES = 2 * LINE + 7;
const CONTROL_SLOTS = 3 * LINE;
/**
 * The longest a blocking wait spins before it sleeps, by default. A wake-up is
 * what a spin saves: measured in Chromium on this project's 2-core machine, one
 * hop between two workers took 0.25-0.5 µs spinning, 1.4-7 µs through
 * Atomics.wait (a futex wake: about 2.5 µs while the machine is busy, 7 µs while
 * its cores idle) and 12-20 µs through Atomics.waitAsync (a task on the woken
 * thread's event loop). Which of spinning and sleeping is quicker depends on the
 * machine's load, so each side of a ring measures both, in turns (see
 * beginWait): TRIAL_WAITS waits that spin (each up to this ceiling, then sleep),
 * TRIAL_WAITS that sleep at once, the clock read once at each turn's start and
 * end (the mean wall time per wait, which includes the other side's work alike
 * in both); then the quicker way, spinning only if clearly quicker, for
 * CHOSEN_WAITS waits; then both again. An idle channel, or one fed at a real-time
 * pace, measures both alike and so sleeps: its spins are the 1 in 18 waits of the
 * spinning turns, each spinning this ceiling once.
 *
 * Why turns of many waits, timed once each (the issue 14 session's probes,
 * FrameRing ping-pong of 512-byte frames, load 3-9 on 2 cores): an earlier
 * policy timed one wait in four to keep running means of spinning and sleeping
 * waits; with the clock's 5 µs steps (cross-origin isolated Chromium) and one
 * stalled wait weighing hundreds of later ones it slept about one wait in five
 * even when spinning was quicker: 3.0-4.5 µs a hop where two sides that never
 * stop spinning took 1.0-1.5 µs. A fixed policy cannot be right at every load:
 * at load 6-8 a 1 ms spin ceiling gave 12 µs a hop and sleeping at once 2.5 µs;
 * at load 3, 1.3-2.2 µs against 3-7 µs.
 */
export const DEFAULT_SPIN_MICROS = 200;
/** Waits per measured turn, and waits the chosen way then keeps (powers of two). */
const TRIAL_WAITS = 128;
const CHOSEN_WAITS = 2048;
/** Spinning is chosen only when its turn's mean wait is below this share of sleeping's. */
const SPIN_MUST_WIN = 0.9;
/** Looks at the counter between two readings of the clock while spinning (a few µs). */
const SPIN_LOOKS = 1024;
const CONTROL_BYTES = CONTROL_SLOTS * 4;
/**
 * Where the storage starts: 4 bytes past an 8-byte boundary, with records padded
 * to 8 bytes, so that each frame (after its record's 4-byte length) starts on one
 * while the counters start on one (the default). The codec lays audio samples and
 * tensor data out 8-aligned from the frame's start, and V8 copies between a
 * SharedArrayBuffer and memory of its own a word at a time only when both ends are
 * 8-aligned, else byte by byte: 0.2 µs against 0.9-1 µs for a 20 ms block's 3,840
 * bytes in Chromium, four such copies a block on a round trip through a worker.
 */
const DATA_OFFSET = CONTROL_BYTES + 4;
/** The length field of a pad record: skip to the start of the storage. */
const PAD = 0xffff_ffff;
/** Reserve results that are not a position. */
const NO_ROOM = -1;
const DROPPED = -2;
/**
 * Longest sleep, a safety net only: no wake-up is lost (see the wake words), so a
 * sleep ends when data, room, close or cancel comes. Each such wake-up of an idle
 * side costs CPU (measured on the page of this 2-core machine under load: with
 * 100 ms here an idle ring echo took 3-4 ms of CPU a second more than the page
 * alone; with 1 s, none measurable).
 */
const SAFETY_WAKE_MS = 1000;

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

/** A wait's deadline on performance.now()'s clock; read only for a finite timeout. */
function deadlineAfter(timeoutMs: number): number {
  return timeoutMs === Number.POSITIVE_INFINITY ? timeoutMs : performance.now() + timeoutMs;
}

/** Milliseconds to `deadline`; the clock is read only for a finite one. */
function timeLeft(deadline: number): number {
  return deadline === Number.POSITIVE_INFINITY ? deadline : deadline - performance.now();
}

/** Bytes a record of a `length`-byte frame takes: its 4-byte length and the frame, padded to 8. */
function record(length: number): number {
  return (4 + length + 7) & ~7;
}

/** The longest frame a ring of `capacity` bytes holds (its record must fit). */
function longestFrame(capacity: number): number {
  return (capacity & ~7) - 4;
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
  const buffer = new SharedArrayBuffer(DATA_OFFSET + storage);
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
  /** The spin's ceiling (ms). */
  private readonly maxSpinMs: number;
  /**
   * The turns (see DEFAULT_SPIN_MICROS): 0 spinning trial, 1 sleeping trial, 2
   * the chosen way; waits into the turn, when it began, the spinning trial's mean
   * wait (ms), and whether the chosen way spins.
   */
  private turn = 0;
  private turnWaits = 0;
  private turnStartMs = Number.NaN;
  private spinTrialMs = 0;
  private spinChosen = false;
  /** Whether the wait in progress may still spin; when its spin ends (NaN until it first looks). */
  private spinLeft = false;
  private spinEndMs = Number.NaN;

  constructor(buffer: SharedArrayBuffer, spinMicros: number) {
    this.control = new Int32Array(buffer, 0, CONTROL_SLOTS);
    this.data = new Uint8Array(buffer, DATA_OFFSET);
    this.view = new DataView(buffer, DATA_OFFSET);
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
    this.seenRead = Atomics.load(this.control, READ);
    this.seenWrite = Atomics.load(this.control, WRITE);
  }

  protected used(): number {
    return (Atomics.load(this.control, WRITE) - Atomics.load(this.control, READ)) >>> 0;
  }

  /**
   * At the start of a wait: whether it spins (as DEFAULT_SPIN_MICROS says: not
   * while backing off). Allocates nothing, reads no clock.
   */
  protected beginWait(): void {
    this.spinEndMs = Number.NaN;
    this.spinLeft = false;
    if (this.maxSpinMs === 0) return;
    const waits = this.turnWaits++;
    if (waits === 0) this.turnStartMs = performance.now();
    else if (waits === (this.turn === 2 ? CHOSEN_WAITS : TRIAL_WAITS)) this.endTurn();
    this.spinLeft = this.turn === 0 || (this.turn === 2 && this.spinChosen);
  }

  /** Ends a turn of waits (two clock reads per turn): the next turn starts with this wait. */
  private endTurn(): void {
    const now = performance.now();
    const mean = (now - this.turnStartMs) / (this.turnWaits - 1);
    if (this.turn === 0) this.spinTrialMs = mean;
    else if (this.turn === 1) this.spinChosen = this.spinTrialMs < SPIN_MUST_WIN * mean;
    this.turn = (this.turn + 1) % 3;
    this.turnWaits = 1;
    this.turnStartMs = now;
  }

  /**
   * Whether the wait in progress may go on spinning: reads the clock (once per
   * SPIN_LOOKS looks; the first sets the deadline), and ends the spin past its
   * ceiling or on cancel.
   */
  private spinOn(): boolean {
    const now = performance.now();
    if (Number.isNaN(this.spinEndMs)) this.spinEndMs = now + this.maxSpinMs;
    if (now > this.spinEndMs) {
      this.spinLeft = false;
    } else if (Atomics.load(this.control, CANCELLED) === 1) {
      this.spinLeft = false;
    }
    return this.spinLeft;
  }

  /**
   * Spins until control[slot] differs from `seen`, if the wait in progress spins
   * and until its spin ends; true if it did. Blocks the thread for the spin:
   * blocking waits only (workers). Allocates nothing.
   */
  protected spinUntil(slot: number, seen: number): boolean {
    if (!this.spinLeft) return false;
    const control = this.control;
    do {
      for (let i = 0; i < SPIN_LOOKS; i++) {
        if (Atomics.load(control, slot) !== seen) return true;
      }
    } while (this.spinOn());
    return false;
  }

  /** FrameRingWriter's spin: until `wanted` bytes are free, as spinUntil. */
  protected spinForRoom(wanted: number): boolean {
    if (!this.spinLeft) return false;
    do {
      for (let i = 0; i < SPIN_LOOKS; i++) {
        if (this.capacity - this.used() >= wanted) return true;
      }
    } while (this.spinOn());
    return false;
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
    if (length <= longestFrame(this.capacity) && record(length) <= ready) return length;
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
    this.wake(READER_WAKE);
    this.wake(WRITER_WAKE);
    this.bell?.ring();
  }

  /** The reading thread's doorbell, rung after each commit, close and cancel (writers only). */
  protected bell: Doorbell | undefined;

  /** Wakes whoever sleeps on `word` (READER_WAKE or WRITER_WAKE). Allocates nothing. */
  protected wake(word: number): void {
    Atomics.add(this.control, word, 1);
    Atomics.notify(this.control, word);
  }

  /** Either side, any thread: sleeps that timed out with their wait over (LATE_WAKES). Allocates nothing. */
  lateWakes(): number {
    return Atomics.load(this.control, LATE_WAKES);
  }

  /** After a sleep: counts it in LATE_WAKES if it timed out although `over`. */
  protected countLate(result: string, over: boolean): void {
    if (result === 'timed-out' && over) Atomics.add(this.control, LATE_WAKES, 1);
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
  /**
   * `spinMicros`: how long write/writeFrame spin on a full ring before they sleep.
   * `doorbell`: the reading thread's (doorbell.ts), if it sleeps on one for all its
   * rings: rung after every commit, close and cancel while that thread sleeps (one
   * atomic load a frame while it does not).
   */
  constructor(
    buffer: SharedArrayBuffer,
    readonly policy: OverrunPolicy = 'block',
    spinMicros = DEFAULT_SPIN_MICROS,
    doorbell?: SharedArrayBuffer,
  ) {
    super(buffer, spinMicros);
    this.bell = doorbell && new Doorbell(doorbell);
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
   * full (policy "block"): spins first (adaptively, see DEFAULT_SPIN_MICROS), then
   * sleeps until the reader has freed a quarter of the ring (or the frame's room,
   * if more), or close or cancel; throws on cancel, close or timeout. Allocates
   * nothing.
   */
  write(bytes: Uint8Array, timeoutMs = Number.POSITIVE_INFINITY): void {
    if (this.tryWrite(bytes)) return;
    const deadline = deadlineAfter(timeoutMs);
    this.beginWait();
    while (!this.tryWrite(bytes)) this.awaitRoom(bytes.length, deadline, timeoutMs);
  }

  /** Writer thread, a worker: writeFrame is to tryWriteFrame what write is to tryWrite. */
  writeFrame(frame: Frame, timeoutMs = Number.POSITIVE_INFINITY): void {
    const prepared = prepareFrame(frame);
    if (this.tryWriteFrame(prepared)) return;
    const deadline = deadlineAfter(timeoutMs);
    this.beginWait();
    while (!this.tryWriteFrame(prepared)) this.awaitRoom(prepared.length, deadline, timeoutMs);
  }

  /**
   * Writer thread, any thread kind (the page too). Waits without blocking the
   * thread while the ring is full, until a quarter of it is free (as write, with
   * no spin: a writer that got ahead of its reader has nothing to hurry for);
   * allocates a promise per wait.
   */
  async writeAsync(bytes: Uint8Array): Promise<void> {
    while (!this.tryWrite(bytes)) await this.awaitRoomAsync(bytes.length);
  }

  /** Writer thread, anywhere: writeFrameAsync is to tryWriteFrame what writeAsync is to tryWrite. */
  async writeFrameAsync(frame: Frame | PreparedFrame): Promise<void> {
    const prepared = 'writeInto' in frame ? frame : prepareFrame(frame);
    while (!this.tryWriteFrame(prepared)) await this.awaitRoomAsync(prepared.length);
  }

  /**
   * Writer thread (or a thread that owns the writer's end). End of stream: the
   * reader drains what is there, then sees the end. Never blocks, allocates nothing.
   */
  close(): void {
    Atomics.store(this.control, CLOSED, 1);
    this.wake(READER_WAKE);
    this.bell?.ring();
  }

  /** The room a sleeping writer waits for: a quarter of the ring, or the record if larger. */
  private wantedRoom(length: number): number {
    return Math.max(record(length), this.capacity >>> 2);
  }

  /**
   * Once the last write found no room: waits (spin, then sleep) until there is,
   * or returns at once if there is meanwhile; throws past the deadline. The futex
   * protocol, as FrameRingReader.waitFor: the wake word is loaded first, the
   * wanted room announced, the room looked at once more, and the sleep lasts only
   * while the wake word is unchanged; the reader bumps it once it frees the
   * wanted room after seeing the announcement, as do close and cancel.
   */
  private awaitRoom(length: number, deadline: number, timeoutMs: number): void {
    const wake = Atomics.load(this.control, WRITER_WAKE);
    const wanted = this.wantedRoom(length);
    if (this.spinForRoom(wanted)) return;
    const left = timeLeft(deadline);
    if (left <= 0)
      throw new RemoteMediaError('aborted', `ring write timed out after ${timeoutMs} ms`);
    Atomics.store(this.control, WRITER_WAITING, wanted);
    try {
      if (this.fitsNow(length)) return; // the reader moved before it saw the flag
      const slept = Atomics.wait(this.control, WRITER_WAKE, wake, Math.min(left, SAFETY_WAKE_MS));
      this.countLate(slept, this.roomFor(wanted));
    } finally {
      Atomics.store(this.control, WRITER_WAITING, 0);
    }
  }

  private async awaitRoomAsync(length: number): Promise<void> {
    const wake = Atomics.load(this.control, WRITER_WAKE);
    Atomics.store(this.control, WRITER_WAITING, this.wantedRoom(length));
    try {
      if (this.fitsNow(length)) return;
      const wanted = this.wantedRoom(length);
      const waiting = Atomics.waitAsync(this.control, WRITER_WAKE, wake, SAFETY_WAKE_MS);
      if (waiting.async) this.countLate(await waiting.value, this.roomFor(wanted));
    } finally {
      Atomics.store(this.control, WRITER_WAITING, 0);
    }
  }

  /** Whether reserve would find room for what comes first now (a pad, or the record). */
  private fitsNow(length: number): boolean {
    const write = Atomics.load(this.control, WRITE);
    const tail = this.tailFrom(write);
    const needed = record(length);
    return this.room() >= (needed > tail ? tail : needed);
  }

  /** Whether a sleeping writer that wants `wanted` bytes should have been woken (or the ring ended). */
  private roomFor(wanted: number): boolean {
    return this.room() >= wanted || this.cancelled || Atomics.load(this.control, CLOSED) === 1;
  }

  /** Free bytes now (loads both counters). */
  private room(): number {
    return this.capacity - this.used();
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
        `a ${length}-byte frame cannot fit a ${this.capacity}-byte ring (at most ${longestFrame(this.capacity)} bytes)`,
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
          // A sleeping reader must hear of the pad: when the record then finds no
          // room, this writer waits for the reader to skip the pad, and a reader
          // asleep on the (then not empty) ring would wait for its safety timeout
          // (attack-ring-wake.test.ts: 1 s stalls with tail + record > capacity).
          this.notifyReader();
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
    // One notify per announcement: the writer takes it down as it wakes the reader,
    // so the frames committed before the woken reader runs (on the page a task later:
    // tens of µs, many frames of a stream) cost one load each, not a notify each (one
    // 60 s run through a worker made 3,675 notifies of which 143 woke anyone). The
    // bump comes with the take-down, so a sleeper of the old word still wakes, and a
    // reader that sleeps again announces again (whenReady renews it on every call).
    this.notifyReader();
  }

  /** Wakes a sleeping reader (taking its announcement down) and rings its thread's doorbell. */
  private notifyReader(): void {
    const control = this.control;
    if (
      Atomics.load(control, READER_WAITING) === 1 &&
      Atomics.compareExchange(control, READER_WAITING, 1, 0) === 1
    ) {
      this.wake(READER_WAKE);
    }
    this.bell?.ring();
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
/** What readInto's copy returns for a record longer than the target (left in the ring). */
const TOO_SMALL: unique symbol = Symbol('record longer than the target');

/**
 * The reading side: one thread only. tryRead/tryReadFrame never block;
 * read/readFrame block with Atomics.wait (workers only, never the page or the
 * worklet); readAsync/readFrameAsync wait with Atomics.waitAsync and may be used
 * anywhere. Each read copies out what it returns, so the writer may reuse the
 * space at once.
 */
export class FrameRingReader extends RingSide {
  /**
   * `spinMicros`: how long read/readFrame spin on an empty ring before they sleep.
   * `codec`: how readFrame and its kin decode (RING_FRAME_CODEC, or RING_SLAB_CODEC
   * for a reader whose items stay inside the engine); CRCs are never checked here.
   */
  constructor(
    buffer: SharedArrayBuffer,
    spinMicros = DEFAULT_SPIN_MICROS,
    codec: CodecOptions = RING_FRAME_CODEC,
  ) {
    super(buffer, spinMicros);
    this.codec = codec.checksum === false ? codec : { ...codec, checksum: false };
  }

  private readonly codec: CodecOptions;
  /** Bound once, so that reads do not allocate a closure each. */
  private readonly copyOut = (at: number, length: number) => this.data.slice(at, at + length);
  private readonly decodeAt = (at: number, length: number) =>
    decodeFrame(this.data.subarray(at, at + length), this.codec);
  /** readInto's target, for copyInto (a field, so that no closure is made per read). */
  private target: Uint8Array = new Uint8Array(0);
  private readonly copyInto = (at: number, length: number): number | typeof TOO_SMALL => {
    const target = this.target;
    if (length > target.length) return TOO_SMALL;
    target.set(this.data.subarray(at, at + length));
    return length;
  };

  /**
   * Reader thread. The next record's bytes (a fresh copy: the only allocation),
   * undefined if none is there yet, or RING_CLOSED at the end. Never blocks.
   */
  tryRead(): Uint8Array | undefined | typeof RING_CLOSED {
    return this.take(this.copyOut);
  }

  /**
   * Reader thread. Copies the next record's bytes into the start of `target` and
   * returns their number; undefined if none is there yet, or RING_CLOSED. A
   * record longer than `target` stays in the ring and a `usage` error says how
   * long it is. Never blocks; allocates only a view of the ring (no buffer).
   */
  tryReadInto(target: Uint8Array): number | undefined | typeof RING_CLOSED {
    this.target = target;
    return this.checkFits(this.take(this.copyInto), target);
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
   * the end) is there: spins first (adaptively, see DEFAULT_SPIN_MICROS), then
   * sleeps in Atomics.wait until a frame, close or cancel comes; throws on cancel
   * or timeout. Allocates the returned copy.
   */
  read(timeoutMs = Number.POSITIVE_INFINITY): Uint8Array | typeof RING_CLOSED {
    return this.waitFor(this.copyOut, timeoutMs);
  }

  /** Reader thread, a worker: readInto is to tryReadInto what read is to tryRead. */
  readInto(target: Uint8Array, timeoutMs = Number.POSITIVE_INFINITY): number | typeof RING_CLOSED {
    this.target = target;
    return this.checkFits(this.waitFor(this.copyInto, timeoutMs), target);
  }

  /** Reader thread, a worker: readFrame is to tryReadFrame what read is to tryRead. */
  readFrame(timeoutMs = Number.POSITIVE_INFINITY): Frame | typeof RING_CLOSED {
    return this.waitFor(this.decodeAt, timeoutMs);
  }

  /**
   * Reader thread, any thread kind (the page too). Waits without blocking the
   * thread, with Atomics.waitAsync (no spin: see waitForAsync). Allocates the
   * returned copy and a promise per wait.
   */
  readAsync(): Promise<Uint8Array | typeof RING_CLOSED> {
    return this.waitForAsync(this.copyOut);
  }

  /** Reader thread, anywhere: readFrameAsync is to tryReadFrame what readAsync is to tryRead. */
  readFrameAsync(): Promise<Frame | typeof RING_CLOSED> {
    return this.waitForAsync(this.decodeAt);
  }

  /**
   * Reader thread (any thread kind). Whether a try-read would return now rather
   * than undefined: a record (or pad) is there, or the ring is closed or
   * cancelled. Never blocks; allocates nothing (a few atomic loads).
   */
  ready(): boolean {
    const c = this.control;
    return (
      Atomics.load(c, WRITE) !== Atomics.load(c, READ) ||
      Atomics.load(c, CLOSED) === 1 ||
      Atomics.load(c, CANCELLED) === 1
    );
  }

  /**
   * Reader thread (any thread kind, the page too). Spins until ready() or for at
   * most `maxMicros`; true if ready. Blocks the thread for the spin (bounded: the
   * caller chooses how long its thread may be held); reads the clock once per
   * SPIN_LOOKS looks; allocates nothing.
   */
  spinReady(maxMicros: number): boolean {
    if (this.ready()) return true;
    const until = performance.now() + maxMicros / 1000;
    do {
      for (let i = 0; i < SPIN_LOOKS; i++) if (this.ready()) return true;
    } while (performance.now() < until);
    return this.ready();
  }

  /** The outstanding wait of whenReady, shared by its callers until it ends. */
  private armed: Promise<void> | undefined;

  /**
   * Reader thread, any thread kind (the page too). A promise that resolves once
   * the ring may have changed (a frame, close, cancel, or the 1 s safety wake-up:
   * look with a try-read, and call again if it gave nothing), or undefined when
   * ready() now. While it waits, the writer notifies (the announcement, see
   * waitFor); quiet() withdraws that for a reader that spins meanwhile, and the
   * next whenReady renews it. One wait at a time: calls during a wait return the
   * same promise. Never blocks; allocates a promise per wait (none while one is
   * outstanding).
   */
  whenReady(): Promise<void> | undefined {
    if (this.armed !== undefined) {
      // Renew the announcement; the wait's wake word is unchanged or it has ended.
      Atomics.store(this.control, READER_WAITING, 1);
      if (!this.ready()) return this.armed;
      this.quiet();
      return undefined;
    }
    const wake = Atomics.load(this.control, READER_WAKE);
    Atomics.store(this.control, READER_WAITING, 1);
    if (this.ready()) {
      this.quiet();
      return undefined;
    }
    const waiting = Atomics.waitAsync(this.control, READER_WAKE, wake, SAFETY_WAKE_MS);
    if (!waiting.async) {
      this.quiet();
      return undefined;
    }
    this.armed = waiting.value.then(() => {
      this.armed = undefined;
      this.quiet();
    });
    return this.armed;
  }

  /**
   * Reader thread: withdraws whenReady's announcement, so that the writer stops
   * notifying (a reader that spins, or took its frame another way). Never blocks;
   * allocates nothing.
   */
  quiet(): void {
    Atomics.store(this.control, READER_WAITING, 0);
  }

  private checkFits<T>(got: T | typeof TOO_SMALL, target: Uint8Array): T {
    if (got !== TOO_SMALL) return got;
    const length = this.view.getUint32(Atomics.load(this.control, READ) & this.mask, true);
    throw new RemoteMediaError(
      'usage',
      `the next ring record is ${length} bytes; readInto's target holds only ${target.length}`,
    );
  }

  /**
   * Takes the next record with `open` (which must not keep a view of the ring); an
   * open that returns TOO_SMALL leaves the record where it is. Every turn of the
   * loop looks at the cancelled flag, and a turn repeats only after progress: a
   * pad skipped, or the read index moved by a drop-oldest writer.
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
        if (Atomics.compareExchange(this.control, READ, read, next) === read) {
          this.notifyWriter(next);
        }
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
      if (result === TOO_SMALL) {
        if (Atomics.load(this.control, READ) !== read) continue; // dropped meanwhile
        return result;
      }
      // Commit; fails only if a drop-oldest writer took this record meanwhile.
      if (this.commit(read, length)) return result;
    }
  }

  private commit(read: number, length: number): boolean {
    const next = (read + record(length)) | 0;
    if (Atomics.compareExchange(this.control, READ, read, next) !== read) return false;
    Atomics.add(this.control, FRAMES_READ, 1);
    this.notifyWriter(next);
    return true;
  }

  /**
   * Wakes a sleeping writer once the room it waits for is free (read index now
   * `read`), taking its announcement down as it does (as the writer does for the
   * reader, see FrameRingWriter's commit): one notify per wait, not one per frame
   * read before the woken writer runs (1,820 notifies in a 60 s run, 152 of them
   * waking anyone, before).
   */
  private notifyWriter(read: number): void {
    const wanted = Atomics.load(this.control, WRITER_WAITING);
    if (wanted === 0) return;
    const used = (Atomics.load(this.control, WRITE) - read) >>> 0;
    if (this.capacity - used < wanted) return;
    if (Atomics.compareExchange(this.control, WRITER_WAITING, wanted, 0) === wanted) {
      this.wake(WRITER_WAKE);
    }
  }

  /**
   * The futex protocol (the writer's awaitRoom is its mirror): the wake word is
   * loaded first; after the spin the reader announces itself (READER_WAITING),
   * looks once more, and sleeps only while the wake word is unchanged. The writer
   * bumps the word after a commit that finds the announcement; close and cancel
   * bump it after setting their flag. In the one order of seq-cst atomics, either
   * the last look sees the frame (or the flag), or the bump comes after the word
   * was loaded and the sleep ends at once: no wake-up is lost, and a reader that
   * is awake or spinning costs the writer no notify.
   */
  private waitFor<T>(
    open: (at: number, length: number) => T,
    timeoutMs: number,
  ): T | typeof RING_CLOSED {
    const first = this.take(open);
    if (first !== undefined) return first;
    const deadline = deadlineAfter(timeoutMs);
    this.beginWait();
    for (;;) {
      const wake = Atomics.load(this.control, READER_WAKE);
      const write = Atomics.load(this.control, WRITE);
      const got = this.take(open);
      if (got !== undefined) return got;
      if (this.spinUntil(WRITE, write)) continue;
      const left = timeLeft(deadline);
      if (left <= 0)
        throw new RemoteMediaError('aborted', `ring read timed out after ${timeoutMs} ms`);
      Atomics.store(this.control, READER_WAITING, 1);
      try {
        const again = this.take(open);
        if (again !== undefined) return again;
        const slept = Atomics.wait(this.control, READER_WAKE, wake, Math.min(left, SAFETY_WAKE_MS));
        this.countLate(slept, this.ready());
      } finally {
        Atomics.store(this.control, READER_WAITING, 0);
      }
    }
  }

  private async waitForAsync<T>(
    open: (at: number, length: number) => T,
  ): Promise<T | typeof RING_CLOSED> {
    // No spin here: a spin on a thread's event loop (yielding to its microtasks
    // between looks) was tried and made the runtime's round trip slower, 60-80 µs
    // against 45-50 µs sleeping at once (Chromium, load 8 on 2 cores): it delays
    // the session on the same thread by a turn of looks per microtask, and holds
    // the core. So async waits sleep at once, as they did.
    for (;;) {
      const wake = Atomics.load(this.control, READER_WAKE);
      const got = this.take(open);
      if (got !== undefined) return got;
      Atomics.store(this.control, READER_WAITING, 1);
      try {
        const again = this.take(open);
        if (again !== undefined) return again;
        const waiting = Atomics.waitAsync(this.control, READER_WAKE, wake, SAFETY_WAKE_MS);
        if (waiting.async) this.countLate(await waiting.value, this.ready());
      } finally {
        Atomics.store(this.control, READER_WAITING, 0);
      }
    }
  }
}
