/**
 * The reading end of a live audio source (microphone, file at real time): an
 * AudioWorklet writes float32 samples into an AudioRing, and this reader turns them
 * into audio RuntimeData blocks for the island's source nodes, with timestamps from
 * the count of samples read. The stream ends when the worklet closes the ring.
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

export class AudioRingChannelReader implements ChannelReader {
  private readonly ring: AudioRing;
  private framesRead = 0;
  private cancelled = false;

  constructor(private readonly endpoint: AudioRingEndpoint) {
    this.ring = new AudioRing(endpoint.buffer);
  }

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

  /** A source ring has no way back to the worklet; the reader just stops. */
  cancel(): void {
    this.cancelled = true;
    this.ring.close();
  }
}
