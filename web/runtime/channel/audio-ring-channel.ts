/**
 * The reading end of a live audio source (microphone, file at real time): an
 * AudioWorklet writes float32 samples into an AudioRing, and this reader turns them
 * into audio RuntimeData blocks for the island's source nodes, with timestamps from
 * the count of samples read. The stream ends when the worklet closes the ring.
 *
 * Threads: the worklet writes the ring; this reader is used by one other thread
 * (the pipeline worker or the page). Nothing blocks.
 */
import { RuntimeData } from '../../core/internal.ts';
import { AudioRing } from '../ring/audio-ring.ts';
import type { ChannelReader } from './channel.ts';

export interface AudioRingEndpoint {
  kind: 'audio-ring';
  buffer: SharedArrayBuffer;
  sampleRate: number;
  channels: number;
  /** Frames per emitted block. */
  blockFrames: number;
}

/** Made once on the reader's thread (openReader); allocates its ring views. */
export class AudioRingChannelReader implements ChannelReader {
  private readonly ring: AudioRing;
  private framesRead = 0;
  private cancelled = false;

  constructor(private readonly endpoint: AudioRingEndpoint) {
    this.ring = new AudioRing(endpoint.buffer);
  }

  /**
   * Reader thread, one read at a time. The next block of `blockFrames` frames (the
   * last may be shorter), or undefined at the end. Waits with Atomics.waitAsync,
   * never blocks; allocates the block's samples and its RuntimeData.
   */
  async read(): Promise<RuntimeData | undefined> {
    const { sampleRate, channels, blockFrames } = this.endpoint;
    const block = blockFrames * channels;
    await this.ring.waitForAsync(block);
    // The last block before the end may be short, but always whole frames.
    const count = Math.min(block, this.ring.available() - (this.ring.available() % channels));
    if (this.cancelled || count === 0) return undefined;
    const samples = new Float32Array(count);
    this.ring.read(samples);
    const timestampUs = Math.round((this.framesRead * 1e6) / sampleRate);
    this.framesRead += count / channels;
    return RuntimeData.audio(samples, sampleRate, channels, timestampUs);
  }

  /**
   * Reader thread. A source ring has no way back to the worklet; the reader just
   * stops (and closes the ring, so a waiting read ends). Never blocks, allocates nothing.
   */
  cancel(): void {
    this.cancelled = true;
    this.ring.close();
  }
}
