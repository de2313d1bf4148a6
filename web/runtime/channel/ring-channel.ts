/**
 * A channel over a FrameRing: each item is encoded by the frame codec straight into
 * the shared memory and decoded straight from it, so its bytes are copied once in
 * and once out (no staging buffer on either side), and no CRC is computed or checked
 * (RING_FRAME_CODEC: the ring is memory shared inside one process, not a wire).
 *
 * Threads: a writer is used by one thread and a reader by one other thread (each
 * may be the page or a worker); nothing here blocks a thread.
 */
import { prepareFrame, RemoteMediaError, type RuntimeData } from '../../core/internal.ts';
import { createDoorbellBuffer } from '../ring/doorbell.ts';
import {
  createFrameRingBuffer,
  DEFAULT_SPIN_MICROS,
  FrameRingReader,
  FrameRingWriter,
  type OverrunPolicy,
  RING_CLOSED,
  RING_FRAME_CODEC,
  RING_SLAB_CODEC,
} from '../ring/frame-ring.ts';
import {
  type ChannelEndpoint,
  type ChannelReader,
  type ChannelWriter,
  checkSequence,
  nextSequence,
  NOT_YET,
  type ReaderOptions,
} from './channel.ts';
import { type PendingRead, type WakeLoop, wakeLoopFor } from './wake-loop.ts';

/** Any thread, at setup: allocates the ring's shared memory. */
export function createRingChannel(
  bytes: number,
  policy: OverrunPolicy,
): { writer: ChannelEndpoint; reader: ChannelEndpoint } {
  const buffer = createFrameRingBuffer(bytes);
  return { writer: { kind: 'ring', buffer, policy }, reader: { kind: 'ring', buffer, policy } };
}

/** One doorbell per key (a kind of worker) on this thread, made on first use. */
const doorbells = new Map<string, SharedArrayBuffer>();

/**
 * Any thread, at setup. The channel's ends with the doorbell of the thread kind
 * `readerKey` that will read it (one per key on this page, made on first use), so
 * that a reader there that sleeps on its doorbell (wake-loop.ts) is woken by this
 * channel's writer. Non-ring ends are returned as they are. Allocates the copies.
 */
export function ringDoorbellFor(
  ends: { writer: ChannelEndpoint; reader: ChannelEndpoint },
  readerKey: string,
): { writer: ChannelEndpoint; reader: ChannelEndpoint } {
  if (ends.writer.kind !== 'ring' || ends.reader.kind !== 'ring') return ends;
  let doorbell = doorbells.get(readerKey);
  if (doorbell === undefined) {
    doorbell = createDoorbellBuffer();
    doorbells.set(readerKey, doorbell);
  }
  return { writer: { ...ends.writer, doorbell }, reader: { ...ends.reader, doorbell } };
}

/** Made once on the writer's thread (openWriter); allocates its ring views. */
export class RingChannelWriter implements ChannelWriter {
  private readonly ring: FrameRingWriter;
  private sequence = 0;
  /**
   * The last write still waiting for room, while one is: later writes queue
   * behind it (a caller may write again before the promise settles, as
   * RuntimeSession.sendInput's callers may: a smaller frame written at once into
   * room the reader freed would overtake it, and the reader fail on the sequence),
   * and end() closes after it, as the port channel does.
   */
  private slow: Promise<void> | undefined;
  private endAfterSlow = false;

  /** `doorbell`: the reading thread's, rung while it sleeps (see wake-loop.ts). */
  constructor(buffer: SharedArrayBuffer, policy: OverrunPolicy, doorbell?: SharedArrayBuffer) {
    this.ring = new FrameRingWriter(buffer, policy, DEFAULT_SPIN_MICROS, doorbell);
  }

  /**
   * Writer thread. Returns undefined when the item is in the ring, else a promise
   * that resolves once it is (the ring was full: wait before writing more; a write
   * given meanwhile queues behind it, in order). Either
   * way the caller may reuse the item's arrays once write returns: a full ring gets
   * a copy encoded now (the slow path allocates it), a ring with room gets the item
   * encoded straight in. Never blocks; the fast path allocates only the codec's
   * small plan.
   */
  write(data: RuntimeData): Promise<void> | undefined {
    let bytes: Uint8Array;
    try {
      if (this.endAfterSlow) throw new RemoteMediaError('session_closed', 'write to a closed ring');
      const frame = prepareFrame({ sequence: this.sequence, data });
      this.sequence = nextSequence(this.sequence);
      if (this.slow === undefined && this.ring.tryWriteFrame(frame)) return undefined;
      bytes = new Uint8Array(frame.length);
      // Sealed as the ring seals frames (no CRC): its reader decodes it as one.
      frame.writeInto(bytes, 0, RING_FRAME_CODEC);
    } catch (error) {
      return Promise.reject(error);
    }
    const before = this.slow;
    const written =
      before === undefined
        ? this.ring.writeAsync(bytes)
        : before.then(() => this.ring.writeAsync(bytes));
    const slow = written.finally(() => {
      if (this.slow !== slow) return;
      this.slow = undefined;
      if (this.endAfterSlow) this.ring.close();
    });
    // A failed write fails the ones behind it (the ring was cancelled or closed).
    this.slow = slow;
    slow.catch(() => {});
    return slow;
  }

  /** Writer thread. End of stream (wakes a sleeping reader), after any write waiting for room. Never blocks, allocates nothing. */
  end(): void {
    if (this.slow !== undefined) {
      this.endAfterSlow = true;
      return;
    }
    this.ring.close();
  }

  /** Either thread. Ends the stream abnormally for both sides. Never blocks, allocates nothing. */
  cancel(): void {
    this.ring.cancel();
  }
}

/** What take() returns when nothing is there yet (undefined is the end). */
const NOTHING: unique symbol = Symbol('nothing yet');

/**
 * The longest poll() holds the page's thread spinning for a reply (µs), and the
 * most polls it then skips after a miss (a power of two).
 */
export const POLL_SPIN_MICROS = 50;
const POLL_BACKOFF_MAX = 64;

/**
 * Made once on the reader's thread (openReader); allocates its ring views. How it
 * waits: in this thread's wake loop (a futex on the doorbell) when the thread has
 * one for this channel's doorbell (a pipeline worker, see wake-loop.ts), else with
 * FrameRingReader.whenReady (Atomics.waitAsync), and on the page a caller that
 * wants a reply soon may poll().
 */
export class RingChannelReader implements ChannelReader, PendingRead {
  private readonly ring: FrameRingReader;
  private sequence = 0;
  private readonly loop: WakeLoop | undefined;
  private pending:
    { resolve: (data: RuntimeData | undefined) => void; reject: (e: unknown) => void } | undefined;
  /** Whether a whenReady wait has this reader's callback on it. */
  private listening = false;
  private pollSkip = 0;
  private pollBackoff = 0;
  private readonly onWake = () => {
    this.listening = false;
    if (this.pending !== undefined && !this.deliver()) this.listen();
  };

  /**
   * Under "block" nothing may be missing, so every sequence number is checked.
   * `options.payloads` "slab": items decoded into slab slices (RING_SLAB_CODEC).
   */
  constructor(
    buffer: SharedArrayBuffer,
    private readonly policy: OverrunPolicy,
    doorbell?: SharedArrayBuffer,
    options: ReaderOptions = {},
  ) {
    const codec = options.payloads === 'slab' ? RING_SLAB_CODEC : RING_FRAME_CODEC;
    this.ring = new FrameRingReader(buffer, DEFAULT_SPIN_MICROS, codec);
    this.loop = wakeLoopFor(doorbell);
  }

  /**
   * Reader thread, one read at a time. The next item, decoded straight from the
   * ring, or undefined at the end. Never blocks the thread (the wake loop blocks
   * only in a task of its own); allocates the decoded item and a promise (and, by
   * default, an ArrayBuffer for its payload; with payloads "slab" a slab slice).
   */
  read(): Promise<RuntimeData | undefined> {
    if (this.pending !== undefined) {
      return Promise.reject(
        new RemoteMediaError('usage', 'a ring channel reader takes one read at a time'),
      );
    }
    try {
      const got = this.take();
      if (got !== NOTHING) return Promise.resolve(got);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      if (this.loop !== undefined) this.loop.add(this);
      else this.listen();
    });
  }

  /**
   * Reader thread, with no read pending. The next item if it is in the ring now
   * (decoded straight from it), undefined at the end, else NOT_YET. Never blocks;
   * allocates the decoded item (no promise). Throws what read would reject with.
   */
  tryRead(): RuntimeData | undefined | typeof NOT_YET {
    if (this.pending !== undefined) {
      throw new RemoteMediaError('usage', 'a ring channel reader takes one read at a time');
    }
    const got = this.take();
    return got === NOTHING ? NOT_YET : got;
  }

  /**
   * Reader thread, for a caller about to wait for this channel's next item (the
   * page's recvOutput): if a read is pending and replies have lately come within
   * POLL_SPIN_MICROS, spins that long at most for the next one and delivers it to
   * the pending read (its caller goes on in a microtask, not an event-loop task).
   * True if it did. After a miss the next 1, 2, 4 ... 64 polls do not spin, so a
   * stream at a real-time pace costs about one spin in 64 calls. Blocks the thread
   * for the spin (bounded, the page included: that is its purpose); allocates
   * nothing beyond the read's own.
   */
  poll(): boolean {
    if (this.pending === undefined || this.loop !== undefined) return false;
    if (this.pollSkip > 0) {
      this.pollSkip--;
      return false;
    }
    // The writer need not notify while this thread spins; listen() renews it.
    this.ring.quiet();
    if (this.ring.spinReady(POLL_SPIN_MICROS) && this.deliver()) {
      this.pollBackoff = 0;
      return true;
    }
    this.pollBackoff = Math.min(POLL_BACKOFF_MAX, this.pollBackoff * 2 || 1);
    this.pollSkip = this.pollBackoff;
    if (this.pending !== undefined) this.listen();
    return false;
  }

  /** Reader thread (the wake loop's). Whether a take would settle the pending read. Allocates nothing. */
  ready(): boolean {
    return this.ring.ready();
  }

  /**
   * Reader thread (the wake loop's). Settles the pending read if there is
   * something (an item, the end, an error); false if not. Never blocks; allocates
   * the decoded item.
   */
  deliver(): boolean {
    const pending = this.pending;
    if (pending === undefined) return true;
    let got: RuntimeData | undefined | typeof NOTHING;
    try {
      got = this.take();
    } catch (error) {
      this.pending = undefined;
      pending.reject(error);
      return true;
    }
    if (got === NOTHING) return false;
    this.pending = undefined;
    pending.resolve(got);
    return true;
  }

  private take(): RuntimeData | undefined | typeof NOTHING {
    const frame = this.ring.tryReadFrame();
    if (frame === undefined) return NOTHING;
    if (frame === RING_CLOSED) return undefined;
    if (this.policy === 'block') this.sequence = checkSequence(frame.sequence, this.sequence);
    return frame.data;
  }

  /** Waits with whenReady (Atomics.waitAsync) until the pending read can be settled. */
  private listen(): void {
    for (;;) {
      if (this.pending === undefined) return;
      const waiting = this.ring.whenReady();
      if (waiting === undefined) {
        if (this.deliver()) return;
        continue; // a pad record only: nothing to deliver yet
      }
      if (!this.listening) {
        this.listening = true;
        void waiting.then(this.onWake);
      }
      return;
    }
  }

  /** Reader thread (or either). Ends the stream abnormally for both sides; a pending read rejects. Allocates nothing. */
  cancel(): void {
    this.ring.cancel();
    if (this.pending !== undefined) {
      if (this.loop !== undefined) this.loop.schedule();
      else this.deliver();
    }
  }
}
