/**
 * AudioWorklet processor "remotemedia-capture": copies each render quantum of its
 * (mono) input into an AudioRing that a pipeline worker reads. Nothing else happens
 * on the audio thread: no allocation, no messages per quantum.
 *
 * Without a ring (a page that is not cross-origin isolated) it fills a pool of
 * transferable buffers instead and posts one buffer per QUANTA_PER_POST quanta.
 * Contract of that fallback, for whoever receives it (audio-source.ts):
 * - it posts `{ type: 'blocks', samples, frames, dropped }`, `samples` a Float32Array
 *   whose buffer is transferred; the first `frames` samples are audio, `dropped`
 *   is the running count of samples lost so far;
 * - the receiver copies what it needs and posts the buffer back,
 *   `{ type: 'return', buffer }` with the buffer transferred, so the pool refills;
 * - when every buffer is away (the receiver is late), the quantum is dropped and
 *   counted, never allocated: process() allocates nothing in either mode. Only the
 *   message handler allocates (a view on each returned buffer, beside the event the
 *   browser makes anyway), once per batch and not per quantum.
 * "stop" from the page posts what is buffered and closes the stream after the
 * current quantum; "ended" carries the final counts.
 */
import { AudioRing } from '../web/runtime/ring/audio-ring.ts';

/** 8 quanta of 128 frames: about 21 ms per message at 48 kHz. */
export const QUANTA_PER_POST = 8;
/** Buffers in the pool: about 170 ms at 48 kHz may be in flight before drops. */
export const POOL_BUFFERS = 8;
const QUANTUM = 128;

/** The one batch message, reused for every post (its fields are overwritten). */
interface BlocksMessage {
  type: 'blocks';
  samples: Float32Array;
  frames: number;
  dropped: number;
}

class CaptureProcessor extends AudioWorkletProcessor {
  private readonly ring: AudioRing | undefined;
  private stopped = false;
  // The fallback's pool: a fixed stack of free views (no array growth or shrinking
  // on the audio thread), and the one being filled.
  private readonly free: (Float32Array | undefined)[] = new Array(POOL_BUFFERS).fill(undefined);
  private freeCount = 0;
  private current: Float32Array | undefined;
  private filled = 0;
  private dropped = 0;
  private delivered = 0;
  private readonly message: BlocksMessage;
  private readonly transfer: ArrayBuffer[] = [new ArrayBuffer(0)];

  constructor(options: AudioWorkletNodeOptions) {
    super(options);
    const { ring } = (options.processorOptions ?? {}) as { ring?: SharedArrayBuffer };
    this.ring = ring ? new AudioRing(ring) : undefined;
    if (!this.ring) {
      for (let i = 0; i < POOL_BUFFERS; i++)
        this.release(new Float32Array(QUANTUM * QUANTA_PER_POST));
    }
    this.message = { type: 'blocks', samples: new Float32Array(0), frames: 0, dropped: 0 };
    this.port.onmessage = (
      event: MessageEvent<string | { type: 'return'; buffer: ArrayBuffer }>,
    ) => {
      const data = event.data;
      if (data === 'stop') this.stopped = true;
      else if (typeof data === 'object' && data.type === 'return') {
        this.release(new Float32Array(data.buffer));
      }
    };
  }

  process(inputs: Float32Array[][]): boolean {
    if (this.stopped) {
      this.ring?.close();
      if (this.filled > 0) this.post();
      this.port.postMessage({
        type: 'ended',
        written: this.ring ? this.ring.written : this.delivered,
        dropped: this.ring ? this.ring.droppedSamples : this.dropped,
      });
      return false;
    }
    const input = inputs[0]?.[0];
    if (input) {
      if (this.ring) this.ring.write(input);
      else this.pool(input);
    }
    return true;
  }

  /** The fallback: copy the quantum into the current buffer; post it once full. */
  private pool(input: Float32Array): void {
    let current = this.current;
    if (current && current.length - this.filled < input.length) {
      this.post();
      current = undefined;
    }
    if (!current) {
      if (this.freeCount === 0 || this.free[this.freeCount - 1]!.length < input.length) {
        this.dropped += input.length;
        return;
      }
      current = this.free[--this.freeCount]!;
      this.free[this.freeCount] = undefined;
      this.current = current;
      this.filled = 0;
    }
    current.set(input, this.filled);
    this.filled += input.length;
    if (this.filled === current.length) this.post();
  }

  /** Back into the pool (a returned buffer, or one made at setup). */
  private release(view: Float32Array): void {
    if (this.freeCount < this.free.length) this.free[this.freeCount++] = view;
  }

  /** Posts the current buffer (transferred) in the reused message. */
  private post(): void {
    const current = this.current!;
    const message = this.message;
    message.samples = current;
    message.frames = this.filled;
    message.dropped = this.dropped;
    this.transfer[0] = current.buffer as ArrayBuffer;
    this.port.postMessage(message, this.transfer);
    this.delivered += this.filled;
    this.current = undefined;
    this.filled = 0;
  }
}

registerProcessor('remotemedia-capture', CaptureProcessor);
