/**
 * Streaming half-band decimation by 2, the first stage of large downsampling
 * ratios (see planResample). Each channel's input is kept as its two phases, even
 * and odd buffer positions, so the filter's nonzero taps (every other one) read
 * consecutive samples. Output j is centred on input sample 2j (no delay), and the
 * output of a stream does not depend on how its input is chunked.
 *
 * Two kernels, as for the polyphase stage: WASM (wasm-nodes/dsp.ts splitPhases and
 * halfband) and a plain-TypeScript twin.
 */
import type { DspInstance } from './dsp-module.ts';
import type { HalfbandFilter } from './resample-filter.ts';
import { MAX_CHUNK_FRAMES } from './resampler.ts';

export interface HalfbandKernel {
  readonly name: string;
  /** Appends frames of channel c of interleaved samples at buffer position at. */
  write(channel: number, samples: Float32Array, frames: number, channels: number, at: number): void;
  /**
   * Writes count outputs of one channel to output[k * channels + channel], or to
   * target[k * channels + channel] when given (the WASM kernel needs it in its own memory).
   */
  run(channel: number, count: number, channels: number, target?: Float32Array): void;
  /** Drops the first `count` samples of each phase, keeping `keep` buffer positions. */
  shift(channel: number, count: number, keep: number): void;
  output(): Float32Array;
}

function capacities(filter: HalfbandFilter, channels: number) {
  // Buffer positions: history (4 half - 2 at most) plus one piece of input.
  const phaseFrames = Math.ceil((MAX_CHUNK_FRAMES + 4 * filter.half) / 2) + 1;
  const outputSamples = (Math.ceil(MAX_CHUNK_FRAMES / 2) + 2 * filter.half + 2) * channels;
  return { phaseFrames, outputSamples };
}

export function typescriptHalfbandKernel(filter: HalfbandFilter, channels: number): HalfbandKernel {
  const { phaseFrames, outputSamples } = capacities(filter, channels);
  const even = Array.from({ length: channels }, () => new Float32Array(phaseFrames));
  const odd = Array.from({ length: channels }, () => new Float32Array(phaseFrames));
  const out = new Float32Array(outputSamples);
  const { taps, centre, half } = filter;
  const n = taps.length;
  return {
    name: 'typescript',
    write(channel, samples, frames, stride, at) {
      const e = even[channel]!;
      const o = odd[channel]!;
      for (let i = 0, p = at; i < frames; i++, p++) {
        const v = samples[i * stride + channel]!;
        if (p % 2 === 0) e[p >> 1] = v;
        else o[p >> 1] = v;
      }
    },
    run(channel, count, stride, target = out) {
      const e = even[channel]!;
      const o = odd[channel]!;
      for (let k = 0; k < count; k++) {
        let y = 0;
        for (let i = 0; i < n; i++) y += taps[i]! * e[k + i]!;
        target[k * stride + channel] = y + centre * o[k + half - 1]!;
      }
    },
    shift(channel, count, keep) {
      even[channel]!.copyWithin(0, count, count + Math.ceil(keep / 2));
      odd[channel]!.copyWithin(0, count, count + Math.floor(keep / 2));
    },
    output: () => out,
  };
}

export function wasmHalfbandKernel(
  filter: HalfbandFilter,
  channels: number,
  dsp: DspInstance,
): HalfbandKernel {
  const { phaseFrames, outputSamples } = capacities(filter, channels);
  const tapsPtr = dsp.alloc(filter.taps.byteLength);
  const evenPtrs = Array.from({ length: channels }, () => dsp.alloc(phaseFrames * 4));
  const oddPtrs = Array.from({ length: channels }, () => dsp.alloc(phaseFrames * 4));
  const stagingFrames = MAX_CHUNK_FRAMES * channels;
  const stagingPtr = dsp.alloc(stagingFrames * 4);
  const outputPtr = dsp.alloc(outputSamples * 4);
  dsp.f32(tapsPtr, filter.taps.length).set(filter.taps);
  // Growing memory (a later stage allocating in the same instance) detaches views:
  // they are taken again when the buffer has changed.
  let buffer: ArrayBuffer | undefined;
  let staging!: Float32Array;
  let evens!: Float32Array[];
  let odds!: Float32Array[];
  let out!: Float32Array;
  const views = () => {
    // Growing detaches the old buffer (byteLength 0): cheaper to ask than memory.buffer.
    if (buffer !== undefined && buffer.byteLength !== 0) return;
    buffer = dsp.exports.memory.buffer;
    staging = dsp.f32(stagingPtr, stagingFrames);
    evens = evenPtrs.map((ptr) => dsp.f32(ptr, phaseFrames));
    odds = oddPtrs.map((ptr) => dsp.f32(ptr, phaseFrames));
    out = dsp.f32(outputPtr, outputSamples);
  };
  const { splitPhases, halfband } = dsp.exports;
  const { half, centre } = filter;
  const n = filter.taps.length;
  return {
    name: `wasm-${dsp.variant}`,
    write(channel, samples, frames, stride, at) {
      // One copy of the interleaved piece into linear memory serves every channel
      // (HalfbandDecimator writes channel 0 first).
      views();
      if (channel === 0) {
        staging.set(
          samples.length === frames * stride ? samples : samples.subarray(0, frames * stride),
        );
      }
      const src = stagingPtr + channel * 4;
      const even = evenPtrs[channel]!;
      const odd = oddPtrs[channel]!;
      const first = at % 2 === 0 ? even + (at >> 1) * 4 : odd + (at >> 1) * 4;
      const second = at % 2 === 0 ? odd + (at >> 1) * 4 : even + ((at + 1) >> 1) * 4;
      splitPhases(src, stride, frames, first, second);
    },
    run(channel, count, stride, target) {
      views();
      // A target outside this instance's memory gets the outputs by copy.
      const direct = target !== undefined && target.buffer === buffer;
      halfband(
        tapsPtr,
        n,
        centre,
        evenPtrs[channel]!,
        oddPtrs[channel]! + (half - 1) * 4,
        (direct ? target.byteOffset : outputPtr) + channel * 4,
        stride,
        count,
      );
      if (target && !direct) {
        for (let k = 0; k < count; k++) target[k * stride + channel] = out[k * stride + channel]!;
      }
    },
    shift(channel, count, keep) {
      views();
      evens[channel]!.copyWithin(0, count, count + Math.ceil(keep / 2));
      odds[channel]!.copyWithin(0, count, count + Math.floor(keep / 2));
    },
    output: () => {
      views();
      return out;
    },
  };
}

export class HalfbandDecimator {
  /** Buffer positions filled (history plus pending input), over both phases. */
  private fill: number;
  private framesIn = 0;
  private framesOut = 0;

  constructor(
    readonly filter: HalfbandFilter,
    readonly channels: number,
    private readonly kernel: HalfbandKernel,
  ) {
    this.fill = this.initialFill();
  }

  /** Zeros before the first sample, so output 0's window is centred on it. */
  private initialFill(): number {
    const history = 2 * this.filter.half - 1;
    const zeros = new Float32Array(history * this.channels);
    for (let c = 0; c < this.channels; c++) this.kernel.write(c, zeros, history, this.channels, 0);
    return history;
  }

  /**
   * Decimates at most MAX_CHUNK_FRAMES interleaved frames; returns the outputs now
   * complete, as a view valid until the next call. With `target` (a view of the
   * kernel's own memory, such as the next stage's input: StreamingResampler.inputSlot)
   * the outputs are written there when they fit, saving the next stage a copy.
   */
  push(
    samples: Float32Array,
    limit = Number.POSITIVE_INFINITY,
    target?: Float32Array,
  ): Float32Array {
    const { channels, kernel } = this;
    const frames = samples.length / channels;
    for (let c = 0; c < channels; c++) kernel.write(c, samples, frames, channels, this.fill);
    if (limit === Number.POSITIVE_INFINITY) this.framesIn += frames;
    const available = this.fill + frames;
    // Output j reads buffer positions 2j .. 2j + 4 half - 2.
    const possible = Math.floor((available - 4 * this.filter.half + 3) / 2);
    const count = Math.max(0, Math.min(possible, limit));
    const into = target && target.length >= count * channels ? target : undefined;
    for (let c = 0; c < channels; c++) {
      kernel.run(c, count, channels, into);
      kernel.shift(c, count, available - 2 * count);
    }
    this.fill = available - 2 * count;
    this.framesOut += count;
    return (into ?? kernel.output()).subarray(0, count * channels);
  }

  /** Emits the remaining outputs (the input padded with silence) and starts afresh. */
  flush(): Float32Array {
    const expected = Math.ceil(this.framesIn / 2);
    const padding = new Float32Array(2 * this.filter.half * this.channels);
    const tail = this.push(padding, expected - this.framesOut);
    this.fill = this.initialFill();
    this.framesIn = 0;
    this.framesOut = 0;
    return tail;
  }
}
