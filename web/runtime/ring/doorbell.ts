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
 *
 * Self-healing count: a thread that ends while counted (a worker terminated in its
 * sleep) would leave SLEEPERS raised for good, and every writer would bump and
 * notify on every frame. So a writer whose notify woke nobody resets the count to
 * 0 and starts a new generation (bits of the same word), with one compareExchange
 * against the value it read before its bump: every sleeper counted then is dead,
 * or awake and about to look at its rings, or between enter and its wait, and
 * that wait sees RING moved (the bump came after its enter) and returns at once.
 * A sleeper of an old generation leaves without decrementing; it enters anew
 * before its next sleep. A sleeper that enters meanwhile makes the exchange fail
 * (healed on a later frame instead).
 */
import { RemoteMediaError } from '../../core/errors.ts';

// Each word on a cache line of its own: RING moves with every wake-up, SLEEPERS with
// every sleep, TAG never.
const RING = 0;
const SLEEPERS = 16;
const TAG = 32;
const WORDS = 48;
/**
 * SLEEPERS, packed: the count (bits 0-7: at most 255 sleeping threads), the
 * generation (8-15: bumped by each healing, see above) and an enter sequence
 * (16-31: bumped by each enter, so that a healing writer's compareExchange fails
 * if anyone entered since it read the word, even if someone left as well).
 */
const COUNT = 0xff;
const GENERATION = 0x100;
const GENERATIONS = 0xff00;
const ENTER = 1 + 0x1_0000;

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
  /** The generation this view's sleeper entered in (one sleeper per Doorbell object). */
  private entered = 0;
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
    const sleepers = Atomics.load(this.words, SLEEPERS);
    if ((sleepers & COUNT) === 0) return;
    Atomics.add(this.words, RING, 1);
    if (Atomics.notify(this.words, RING) > 0) return;
    // Nobody was asleep: heal the count (see above); a failed exchange is left be.
    const healed = (sleepers & ~(COUNT | GENERATIONS)) | ((sleepers + GENERATION) & GENERATIONS);
    Atomics.compareExchange(this.words, SLEEPERS, sleepers, healed);
  }

  /** Any thread: how many threads sleep on it now (tests, diagnostics). Allocates nothing. */
  sleepers(): number {
    return Atomics.load(this.words, SLEEPERS) & COUNT;
  }

  /**
   * Sleeper thread: the value to sleep on, loaded before the sleeper's last look
   * at its rings, and the sleeper counted (writers ring from now on). Pair every
   * call with one `leave`. Never blocks; allocates nothing.
   */
  enter(): number {
    const seen = Atomics.load(this.words, RING);
    this.entered = Atomics.add(this.words, SLEEPERS, ENTER) & GENERATIONS;
    return seen;
  }

  /**
   * Sleeper thread: no longer asleep (writers stop ringing); nothing to undo if a
   * writer healed the count since enter. Never blocks; allocates nothing.
   */
  leave(): void {
    for (;;) {
      const sleepers = Atomics.load(this.words, SLEEPERS);
      if ((sleepers & GENERATIONS) !== this.entered || (sleepers & COUNT) === 0) return;
      if (Atomics.compareExchange(this.words, SLEEPERS, sleepers, sleepers - 1) === sleepers) {
        return;
      }
    }
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
