/**
 * A whole conversion as planResample lays it out: half-band decimators by 2, then
 * the polyphase stage. Every stage is aligned with its input and independent of
 * chunking, so the cascade is too; its output length is that of a single stage,
 * ceil(frames in * to / from).
 */
import type { DspInstance } from './dsp-module.ts';
import { planResample, type ResamplePlan, type ResampleQuality } from './resample-filter.ts';
import {
  HalfbandDecimator,
  typescriptHalfbandKernel,
  wasmHalfbandKernel,
} from './resample-halfband.ts';
import {
  concatSamples,
  MAX_CHUNK_FRAMES,
  StreamingResampler,
  typescriptResampleKernel,
  wasmResampleKernel,
} from './resampler.ts';

export class Resampler {
  private framesIn = 0;
  private framesOut = 0;

  constructor(
    readonly plan: ResamplePlan,
    readonly channels: number,
    private readonly halfbands: HalfbandDecimator[],
    private readonly last: StreamingResampler,
  ) {}

  /** Resamples interleaved input; returns the interleaved outputs now complete. */
  push(samples: Float32Array): Float32Array {
    const frames = samples.length / this.channels;
    this.framesIn += frames;
    if (this.halfbands.length === 0) return this.count(this.last.push(samples));
    if (frames <= MAX_CHUNK_FRAMES) return this.count(this.last.push(this.decimate(samples)));
    const pieces: Float32Array[] = [];
    for (let start = 0; start < frames; start += MAX_CHUNK_FRAMES) {
      const end = Math.min(frames, start + MAX_CHUNK_FRAMES);
      const piece = samples.subarray(start * this.channels, end * this.channels);
      pieces.push(this.last.push(this.decimate(piece)));
    }
    return this.count(concatSamples(pieces));
  }

  /**
   * Runs at most MAX_CHUNK_FRAMES frames through the half-band stages; the last one
   * writes straight into the polyphase stage's input (mono), which then copies nothing.
   */
  private decimate(piece: Float32Array): Float32Array {
    let x = piece;
    const last = this.halfbands.length - 1;
    for (let i = 0; i < last; i++) x = this.halfbands[i]!.push(x);
    return this.halfbands[last]!.push(x, Number.POSITIVE_INFINITY, this.last.inputSlot());
  }

  /** Emits the remaining outputs (the input padded with silence) and starts afresh. */
  flush(): Float32Array {
    const expected = Math.ceil((this.framesIn * this.plan.toRate) / this.plan.fromRate);
    const parts: Float32Array[] = [];
    for (let i = 0; i < this.halfbands.length; i++) {
      // The tail of stage i goes through the stages after it before they flush.
      let x = this.halfbands[i]!.flush();
      for (const stage of this.halfbands.slice(i + 1)) x = stage.push(x);
      parts.push(this.last.push(x));
    }
    parts.push(this.last.flush());
    const tail = concatSamples(parts).subarray(
      0,
      Math.max(0, expected - this.framesOut) * this.channels,
    );
    this.framesIn = 0;
    this.framesOut = 0;
    return tail;
  }

  private count(out: Float32Array): Float32Array {
    this.framesOut += out.length / this.channels;
    return out;
  }
}

/** A Resampler with the WASM kernels of `dsp`, or the TypeScript twins without it. */
export function createResampler(
  fromRate: number,
  toRate: number,
  channels: number,
  dsp: DspInstance | 'typescript',
  quality?: ResampleQuality,
): Resampler {
  const plan = planResample(fromRate, toRate, quality);
  const halfbands = plan.halfbands.map(
    (filter) =>
      new HalfbandDecimator(
        filter,
        channels,
        dsp === 'typescript'
          ? typescriptHalfbandKernel(filter, channels)
          : wasmHalfbandKernel(filter, channels, dsp),
      ),
  );
  const last = new StreamingResampler(
    plan.filter,
    channels,
    dsp === 'typescript'
      ? typescriptResampleKernel(plan.filter, channels)
      : wasmResampleKernel(plan.filter, channels, dsp),
  );
  return new Resampler(plan, channels, halfbands, last);
}
