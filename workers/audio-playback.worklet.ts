/**
 * AudioWorklet processor "remotemedia-playback": fills each render quantum from an
 * AudioRing of interleaved samples written by the page, de-interleaving into the
 * output channels. An empty ring plays silence and counts the shortfall as
 * underrun. Allocates nothing on the audio thread.
 */
import { AudioRing } from '../web/runtime/ring/audio-ring.ts';

const QUANTUM = 128;

class PlaybackProcessor extends AudioWorkletProcessor {
  private readonly ring: AudioRing;
  private readonly channels: number;
  private readonly block: Float32Array;

  constructor(options: AudioWorkletNodeOptions) {
    super(options);
    const { ring, channels } = options.processorOptions as {
      ring: SharedArrayBuffer;
      channels: number;
    };
    this.ring = new AudioRing(ring);
    this.channels = channels;
    this.block = new Float32Array(QUANTUM * channels);
  }

  process(_inputs: Float32Array[][], outputs: Float32Array[][]): boolean {
    const output = outputs[0]!;
    const frames = output[0]!.length;
    const wanted = frames * this.channels;
    const block = wanted === this.block.length ? this.block : this.block.subarray(0, wanted);
    const got = this.ring.read(block, !this.ring.closed);
    block.fill(0, got);
    for (let c = 0; c < output.length; c++) {
      const channel = output[c]!;
      const from = Math.min(c, this.channels - 1);
      for (let i = 0; i < frames; i++) channel[i] = block[i * this.channels + from]!;
    }
    // Keep running until the page closed the ring and it has drained.
    return !(this.ring.closed && this.ring.available() === 0);
  }
}

registerProcessor('remotemedia-playback', PlaybackProcessor);
