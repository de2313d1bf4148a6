/**
 * AudioWorklet processor "remotemedia-playback": fills each render quantum from an
 * AudioRing of interleaved samples written by the page, de-interleaving into the
 * output channels. An empty ring plays silence and counts the shortfall as
 * underrun. Allocates nothing on the audio thread.
 *
 * Barge-in: when the page asks (a count in the shared control block, see
 * web/runtime/audio/playback-control.ts), the next quantum first drops everything
 * queued, so the speaker is silent from that quantum on, and notes the audio frame
 * (and the clock ring's position) at which it did.
 */
import { noteDrop, PLAYED_UNTIL, dropRequested } from '../web/runtime/audio/playback-control.ts';
import { AudioRing } from '../web/runtime/ring/audio-ring.ts';

const QUANTUM = 128;

class PlaybackProcessor extends AudioWorkletProcessor {
  private readonly ring: AudioRing;
  private readonly channels: number;
  private readonly block: Float32Array;
  private readonly control: Int32Array;
  private readonly clock: AudioRing | undefined;

  constructor(options: AudioWorkletNodeOptions) {
    super(options);
    const { ring, channels, control, clock } = options.processorOptions as {
      ring: SharedArrayBuffer;
      channels: number;
      control: SharedArrayBuffer;
      clock?: SharedArrayBuffer;
    };
    this.ring = new AudioRing(ring);
    this.channels = channels;
    this.block = new Float32Array(QUANTUM * channels);
    this.control = new Int32Array(control);
    this.clock = clock ? new AudioRing(clock) : undefined;
  }

  /** Empties the ring (reading into the block: no allocation) and notes when. */
  private drop(): void {
    let dropped = 0;
    for (let got = 1; got > 0; dropped += got) got = this.ring.read(this.block, false);
    noteDrop(this.control, dropped, currentFrame, this.clock ? this.clock.written : -1);
  }

  process(_inputs: Float32Array[][], outputs: Float32Array[][]): boolean {
    const output = outputs[0]!;
    const frames = output[0]!.length;
    const wanted = frames * this.channels;
    if (dropRequested(this.control)) this.drop();
    const block = wanted === this.block.length ? this.block : this.block.subarray(0, wanted);
    const got = this.ring.read(block, !this.ring.closed);
    if (got > 0) Atomics.store(this.control, PLAYED_UNTIL, currentFrame + got / this.channels);
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
