/**
 * How a worker thread waits for the frames of all its ring channels at once while
 * they stream: asleep in Atomics.wait on one doorbell (ring/doorbell.ts) that every
 * writer into this thread rings, instead of one Atomics.waitAsync per ring. A
 * futex wakes the thread in 1.4-7 µs on this project's 2-core machine; waitAsync's
 * wake-up is a task posted to the thread's event loop, 12-19 µs (docs/BENCHMARKS.md,
 * rings section).
 *
 * A thread blocked in Atomics.wait runs nothing else: no microtask, no message. So
 * the loop runs as a task of its own and blocks only at a task's start, when this
 * thread's microtasks have all run (the pipeline's work on the last frame is done):
 * a task delivers what its wake-up found to the pending reads (their callers go on
 * in the microtasks after it) and posts the next task. It blocks in slices of at
 * most SLICE_MS and then gives its event loop a turn, so comlink calls (interrupt,
 * abort, metrics), timers and other waits of this thread are served within a
 * slice while frames stream. Once no frame came for IDLE_MS it sleeps on the
 * doorbell with Atomics.waitAsync instead, so an idle session holds no core and
 * wakes nothing until its next frame, close or cancel.
 *
 * The trade, stated: while frames stream, this thread's other tasks wait up to a
 * slice (2 ms), and the loop wakes at least once a slice (a few µs of CPU each, so
 * well under 1% of a core at a real-time pace; once idle, nothing: an idle session
 * measured 0.5 ms of this worker's CPU a second, its 1 s safety wake-ups); in
 * return a frame that comes while the thread sleeps costs a futex wake-up, not an
 * event-loop task.
 *
 * Threads: only where Atomics.wait is allowed (a worker) and only once enabled
 * (enableBlockingWaits, called by the pipeline worker's entry). Elsewhere, and for
 * rings whose writer does not ring this thread's doorbell, readers wait with
 * FrameRingReader.whenReady, as before.
 */
import { Doorbell } from '../ring/doorbell.ts';

/** A read waiting for its ring (RingChannelReader): the loop calls it on this thread only. */
export interface PendingRead {
  /** Whether the read's ring has something for it (a frame, the end, a cancel). Allocates nothing. */
  ready(): boolean;
  /** Takes what is there and settles the read; false if nothing was there after all. */
  deliver(): boolean;
}

/** Longest block in one task before the event loop gets a turn (ms). */
export const SLICE_MS = 2;
/** No frame for this long (ms): sleep asynchronously, holding nothing. */
export const IDLE_MS = 50;
/*
 * No spin before the futex sleep: one (up to 30 µs for the next frame, backing
 * off after misses) was tried and taken out: on this shared 2-core machine (load
 * 5-7) its effect on the round trip was within the run-to-run spread (50-95 µs
 * either way in alternating runs), and in a stream it spins while the page that
 * feeds it needs the other core.
 */
/** Safety net of the idle sleep (ms): no wake-up is lost (see doorbell.ts). */
const IDLE_SAFETY_MS = 1000;

class WakeLoop {
  private readonly pending = new Set<PendingRead>();
  private scheduled = false;
  private sleepingAsync = false;
  private lastFrameMs = 0;
  /** Same-thread task posting: MessageChannel has no clamp (setTimeout nests to 4 ms). */
  private readonly port: MessagePort;
  private readonly trigger: MessagePort;
  /** Counters for tests and benchmarks. */
  readonly counts = { slices: 0, futexSleeps: 0, asyncSleeps: 0, deliveries: 0 };

  constructor(readonly bell: Doorbell) {
    const channel = new MessageChannel();
    this.port = channel.port1;
    this.trigger = channel.port2;
    this.port.onmessage = () => this.run();
    this.lastFrameMs = performance.now();
  }

  /** This thread: a read is waiting. Allocates its set entry. */
  add(read: PendingRead): void {
    this.pending.add(read);
    this.schedule();
  }

  /** This thread: look again soon (a cancel on this thread, a new read). */
  schedule(): void {
    if (this.scheduled || this.sleepingAsync) {
      // An async sleep ends only on the doorbell: ring it for ourselves.
      if (this.sleepingAsync) this.bell.ring();
      return;
    }
    this.scheduled = true;
    this.trigger.postMessage(null);
  }

  private deliverAll(): boolean {
    let delivered = false;
    for (const read of this.pending) {
      if (read.ready() && read.deliver()) {
        this.pending.delete(read);
        delivered = true;
        this.counts.deliveries++;
      }
    }
    return delivered;
  }

  private anyReady(): boolean {
    for (const read of this.pending) if (read.ready()) return true;
    return false;
  }

  private run(): void {
    this.scheduled = false;
    if (this.pending.size === 0) return;
    const started = performance.now();
    for (;;) {
      if (this.deliverAll()) {
        this.lastFrameMs = performance.now();
        // The callers run in this task's microtasks; the next task looks again.
        if (this.pending.size > 0) this.schedule();
        return;
      }
      if (this.pending.size === 0) return;
      const now = performance.now();
      if (now - this.lastFrameMs > IDLE_MS) return this.sleepAsync();
      const left = SLICE_MS - (now - started);
      if (left <= 0) {
        this.counts.slices++;
        this.schedule();
        return;
      }
      const seen = this.bell.enter();
      try {
        if (this.anyReady()) continue;
        this.counts.futexSleeps++;
        this.bell.sleep(seen, left);
      } finally {
        this.bell.leave();
      }
    }
  }

  private sleepAsync(): void {
    const seen = this.bell.enter();
    if (this.anyReady()) {
      this.bell.leave();
      this.schedule();
      return;
    }
    const waiting = this.bell.sleepAsync(seen, IDLE_SAFETY_MS);
    if (waiting === undefined) {
      this.bell.leave();
      this.schedule();
      return;
    }
    this.counts.asyncSleeps++;
    this.sleepingAsync = true;
    void waiting.then(() => {
      this.bell.leave();
      this.sleepingAsync = false;
      // Not counted as a frame: a wake-up with nothing for a read (the safety
      // timeout) goes straight back to this sleep; a delivery makes the loop stream.
      this.schedule();
    });
  }
}

let allowed = false;
let loop: WakeLoop | undefined;

/**
 * Worker threads only, once, at start (the pipeline worker's entry): from now on
 * this thread's ring channel readers whose writers ring a doorbell wait in the
 * wake loop. The first doorbell a reader brings becomes the loop's; readers with
 * another (there is one per page and kind of worker, see runtime-session.ts) wait
 * with whenReady. Never call it where Atomics.wait is not allowed (the page).
 */
export function enableBlockingWaits(): void {
  allowed = true;
}

/**
 * This thread's wake loop for a reader whose writer rings `doorbell` (undefined:
 * none, or waits here are not enabled, or the loop sleeps on another doorbell).
 * Creates the loop on the first call (a MessageChannel).
 */
export function wakeLoopFor(doorbell: SharedArrayBuffer | undefined): WakeLoop | undefined {
  if (!allowed || doorbell === undefined) return undefined;
  const bell = new Doorbell(doorbell);
  if (loop === undefined) loop = new WakeLoop(bell);
  return loop.bell.tag === bell.tag ? loop : undefined;
}

/** This thread's loop counters, for tests and benchmarks (undefined before the loop exists). */
export function wakeLoopCounts(): WakeLoop['counts'] | undefined {
  return loop?.counts;
}

export type { WakeLoop };
