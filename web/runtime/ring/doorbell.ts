/**
 * A doorbell: one shared Int32 word that every writer into a thread's rings bumps
 * and notifies while that thread sleeps on it, so one thread can sleep in one
 * Atomics.wait (a futex: 1.4-7 µs to wake on this project's 2-core machine) for
 * data on any of its rings, where a wait per ring would need Atomics.waitAsync (a
 * task on the thread's event loop: 12-19 µs) or one thread per ring. See
 * web/runtime/channel/wake-loop.ts for the thread that sleeps on it.
 *
 * Protocol (the rings' own wake words use the same, see frame-ring.ts waitFor): a
 * sleeper loads RING, adds itself to SLEEPERS, looks at its rings once more and
 * sleeps only while RING is unchanged; a writer commits its frame first, then
 * rings if SLEEPERS is not 0. In the one order of seq-cst atomics either the last
 * look sees the frame or the bump comes after RING was loaded: no wake-up is lost,
 * and a steady stream into an awake thread costs its writers one load per frame.
 * SLEEPERS is a count, not a flag: threads may share a doorbell (a spurious wake-up
 * for the others, never a lost one).
 */
import { RemoteMediaError } from '../../core/errors.ts';

// Each word on a cache line of its own: RING moves with every wake-up, SLEEPERS with
// every sleep, TAG never.
const RING = 0;
const SLEEPERS = 16;
const TAG = 32;
const WORDS = 48;

/** Any thread, at setup: the shared memory of one doorbell (pass it to writers and the sleeper). */
export function createDoorbellBuffer(): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(WORDS * 4);
  // An identity that survives postMessage (which gives each thread its own
  // SharedArrayBuffer object for the same memory): threads compare doorbells by it.
  new Int32Array(buffer)[TAG] = 1 + Math.floor(Math.random() * 0x7fff_fffe);
  return buffer;
}

export class Doorbell {
  private readonly words: Int32Array;
  /** The same for every view of the same doorbell, on any thread. */
  readonly tag: number;

  /** Any thread, at setup: allocates one view. */
  constructor(readonly buffer: SharedArrayBuffer) {
    if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength !== WORDS * 4) {
      throw new RemoteMediaError(
        'usage',
        `a Doorbell needs a buffer made by createDoorbellBuffer (${WORDS * 4} bytes)`,
      );
    }
    this.words = new Int32Array(buffer);
    this.tag = Atomics.load(this.words, TAG);
  }

  /**
   * Writer thread (any thread, the page too), after its frame is committed (or its
   * close or cancel flag set): wakes the sleepers, if any. Never blocks; allocates
   * nothing; one atomic load when nobody sleeps.
   */
  ring(): void {
    if (Atomics.load(this.words, SLEEPERS) === 0) return;
    Atomics.add(this.words, RING, 1);
    Atomics.notify(this.words, RING);
  }

  /** Any thread: how many threads sleep on it now (tests, diagnostics). Allocates nothing. */
  sleepers(): number {
    return Atomics.load(this.words, SLEEPERS);
  }

  /**
   * Sleeper thread: the value to sleep on, loaded before the sleeper's last look
   * at its rings, and the sleeper counted (writers ring from now on). Pair every
   * call with one `leave`. Never blocks; allocates nothing.
   */
  enter(): number {
    const seen = Atomics.load(this.words, RING);
    Atomics.add(this.words, SLEEPERS, 1);
    return seen;
  }

  /** Sleeper thread: no longer asleep (writers stop ringing). Never blocks; allocates nothing. */
  leave(): void {
    Atomics.sub(this.words, SLEEPERS, 1);
  }

  /**
   * Sleeper thread, where blocking is allowed (a worker, never the page): sleeps
   * while RING still holds `seen` (from enter), at most `timeoutMs`. Blocks;
   * allocates nothing. Returns Atomics.wait's answer ('timed-out': nobody rang).
   */
  sleep(seen: number, timeoutMs: number): 'ok' | 'not-equal' | 'timed-out' {
    return Atomics.wait(this.words, RING, seen, timeoutMs);
  }

  /**
   * Sleeper thread, any thread kind: as sleep, without blocking the thread
   * (Atomics.waitAsync); undefined when RING already moved. Allocates a promise.
   */
  sleepAsync(seen: number, timeoutMs: number): Promise<unknown> | undefined {
    const waiting = Atomics.waitAsync(this.words, RING, seen, timeoutMs);
    return waiting.async ? waiting.value : undefined;
  }
}
