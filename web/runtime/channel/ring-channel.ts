/**
 * A channel over a FrameRing: each item is encoded by the frame codec straight into
 * the shared memory and decoded straight from it, so its bytes are copied once in
 * and once out (no staging buffer on either side), and no CRC is computed or checked
 * (RING_FRAME_CODEC: the ring is memory shared inside one process, not a wire).
 *
 * Threads: a writer is used by one thread and a reader by one other thread (each
 * may be the page or a worker); nothing here blocks a thread.
 */
import { prepareFrame, type RuntimeData } from '../../core/internal.ts';
import {
  createFrameRingBuffer,
  FrameRingReader,
  FrameRingWriter,
  type OverrunPolicy,
  RING_CLOSED,
  RING_FRAME_CODEC,
} from '../ring/frame-ring.ts';
import {
  type ChannelEndpoint,
  type ChannelReader,
  type ChannelWriter,
  checkSequence,
  nextSequence,
} from './channel.ts';

/** Any thread, at setup: allocates the ring's shared memory. */
export function createRingChannel(
  bytes: number,
  policy: OverrunPolicy,
): { writer: ChannelEndpoint; reader: ChannelEndpoint } {
  const buffer = createFrameRingBuffer(bytes);
  return { writer: { kind: 'ring', buffer, policy }, reader: { kind: 'ring', buffer, policy } };
}

/** Made once on the writer's thread (openWriter); allocates its ring views. */
export class RingChannelWriter implements ChannelWriter {
  private readonly ring: FrameRingWriter;
  private sequence = 0;

  constructor(buffer: SharedArrayBuffer, policy: OverrunPolicy) {
    this.ring = new FrameRingWriter(buffer, policy);
  }

  /**
   * Writer thread. Returns undefined when the item is in the ring, else a promise
   * that resolves once it is (the ring was full: wait before writing more). Either
   * way the caller may reuse the item's arrays once write returns: a full ring gets
   * a copy encoded now (the slow path allocates it), a ring with room gets the item
   * encoded straight in. Never blocks; the fast path allocates only the codec's
   * small plan.
   */
  write(data: RuntimeData): Promise<void> | undefined {
    let bytes: Uint8Array;
    try {
      const frame = prepareFrame({ sequence: this.sequence, data });
      this.sequence = nextSequence(this.sequence);
      if (this.ring.tryWriteFrame(frame)) return undefined;
      bytes = new Uint8Array(frame.length);
      // Sealed as the ring seals frames (no CRC): its reader decodes it as one.
      frame.writeInto(bytes, 0, RING_FRAME_CODEC);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.ring.writeAsync(bytes);
  }

  /** Writer thread. End of stream. Never blocks, allocates nothing. */
  end(): void {
    this.ring.close();
  }

  /** Either thread. Ends the stream abnormally for both sides. Never blocks, allocates nothing. */
  cancel(): void {
    this.ring.cancel();
  }
}

/** Made once on the reader's thread (openReader); allocates its ring views. */
export class RingChannelReader implements ChannelReader {
  private readonly ring: FrameRingReader;
  private sequence = 0;

  /** Under "block" nothing may be missing, so every sequence number is checked. */
  constructor(
    buffer: SharedArrayBuffer,
    private readonly policy: OverrunPolicy,
  ) {
    this.ring = new FrameRingReader(buffer);
  }

  /**
   * Reader thread. The next item, decoded straight from the ring, or undefined at
   * the end. Never blocks the thread (waits with Atomics.waitAsync); allocates the
   * decoded item and a promise.
   */
  async read(): Promise<RuntimeData | undefined> {
    let frame = this.ring.tryReadFrame();
    if (frame === undefined) frame = await this.ring.readFrameAsync();
    if (frame === RING_CLOSED) return undefined;
    const { sequence, data } = frame;
    if (this.policy === 'block') this.sequence = checkSequence(sequence, this.sequence);
    return data;
  }

  /** Reader thread (or either). Ends the stream abnormally for both sides. Allocates nothing. */
  cancel(): void {
    this.ring.cancel();
  }
}
