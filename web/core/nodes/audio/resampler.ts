/**
 * Streaming polyphase resampler. The output of a stream is the same however its
 * input is chunked: each output sample is computed from the same input samples in
 * the same order. Output is aligned with the input (no delay in the content); the
 * cost is that each push can only emit outputs whose filter window is complete, the
 * rest come with later input or flush().
 *
 * Two kernels compute the filter: WASM (AssemblyScript, SIMD or scalar) and its
 * plain-TypeScript twin. Buffers are laid out once; push allocates only its result
 * (a slice of a shared slab: web/core/buffer-slab.ts).
 */
import { slabFloat32 } from '../../buffer-slab.ts';
import type { DspInstance } from './dsp-module.ts';
import type { PolyphaseFilter } from './resample-filter.ts';

/** Frames taken per kernel call; longer inputs are processed in pieces. */
export const MAX_CHUNK_FRAMES = 8192;

export interface ResampleKernel {
  readonly name: string;
  /** Channel c's input buffer: history followed by new samples. */
  input(channel: number): Float32Array;
  /** Interleaved output buffer. */
  output(): Float32Array;
  /** Writes count outputs of one channel to output[k * channels + channel]. */
  run(channel: number, pos0: number, count: number, channels: number): void;
}

function capacities(filter: PolyphaseFilter, channels: number) {
  const inputFrames = MAX_CHUNK_FRAMES + filter.taps;
  const outputSamples = (Math.ceil((inputFrames * filter.up) / filter.down) + 2) * channels;
  return { inputFrames, outputSamples };
}

export function typescriptResampleKernel(
  filter: PolyphaseFilter,
  channels: number,
): ResampleKernel {
  const { inputFrames, outputSamples } = capacities(filter, channels);
  const inputs = Array.from({ length: channels }, () => new Float32Array(inputFrames));
  const out = new Float32Array(outputSamples);
  const { table, taps, up, down } = filter;
  return {
    name: 'typescript',
    input: (channel) => inputs[channel]!,
    output: () => out,
    run(channel, pos0, count, stride) {
      const input = inputs[channel]!;
      let pos = pos0;
      for (let k = 0; k < count; k++) {
        const base = Math.floor(pos / up);
        const row = (pos - base * up) * taps;
        let y = 0;
        for (let i = 0; i < taps; i++) y += table[row + i]! * input[base + i]!;
        out[k * stride + channel] = y;
        pos += down;
      }
    },
  };
}

export function wasmResampleKernel(
  filter: PolyphaseFilter,
  channels: number,
  dsp: DspInstance,
): ResampleKernel {
  const { inputFrames, outputSamples } = capacities(filter, channels);
  const tablePtr = dsp.alloc(filter.table.byteLength);
  const inputPtrs = Array.from({ length: channels }, () => dsp.alloc(inputFrames * 4));
  const outputPtr = dsp.alloc(outputSamples * 4);
  dsp.f32(tablePtr, filter.table.length).set(filter.table);
  // Growing memory (another stage allocating in the same instance) detaches views:
  // they are taken again when the buffer has changed.
  let buffer: ArrayBuffer | undefined;
  let inputs!: Float32Array[];
  let out!: Float32Array;
  const views = () => {
    // Growing detaches the old buffer (byteLength 0): cheaper to ask than memory.buffer.
    if (buffer !== undefined && buffer.byteLength !== 0) return;
    buffer = dsp.exports.memory.buffer;
    inputs = inputPtrs.map((ptr) => dsp.f32(ptr, inputFrames));
    out = dsp.f32(outputPtr, outputSamples);
  };
  const { resample, resampleSymmetric } = dsp.exports;
  const { taps, up, down } = filter;
  // Rows each symmetric (up <= 2): the transposed kernel that adds the samples a tap
  // pair meets before multiplying, on the input split into `down` streams.
  const lens = symmetricRowLengths(filter);
  let symmetric: { lens: number; streams: number; streamLen: number; ptrs: number } | undefined;
  if (lens) {
    const streamLen = Math.ceil(inputFrames / down) + 1;
    symmetric = {
      lens: dsp.alloc(lens.byteLength),
      streams: dsp.alloc(down * streamLen * 4),
      streamLen,
      ptrs: dsp.alloc(taps * 4),
    };
    new Int32Array(dsp.exports.memory.buffer, symmetric.lens, lens.length).set(lens);
  }
  return {
    name: `wasm-${dsp.variant}`,
    input: (channel) => {
      views();
      return inputs[channel]!;
    },
    output: () => {
      views();
      return out;
    },
    run(channel, pos0, count, stride) {
      if (symmetric) {
        if (count === 0) return;
        // Input frames the last output's window reaches.
        const frames = Math.floor((pos0 + (count - 1) * down) / up) + taps;
        resampleSymmetric(
          tablePtr,
          taps,
          symmetric.lens,
          inputPtrs[channel]!,
          frames,
          symmetric.streams,
          symmetric.streamLen,
          symmetric.ptrs,
          outputPtr + channel * 4,
          stride,
          pos0,
          up,
          down,
          count,
        );
        return;
      }
      resample(
        tablePtr,
        taps,
        inputPtrs[channel]!,
        outputPtr + channel * 4,
        stride,
        pos0,
        up,
        down,
        count,
      );
    },
  };
}

/**
 * Each row's length up to its last nonzero tap, when every row is symmetric within
 * that length exactly (float32 values equal), else undefined. The rows of a symmetric
 * prototype (Kaiser or equiripple, resample-filter.ts) are symmetric about their
 * centre for phase 0 and, when up is even, for phase up / 2.
 */
export function symmetricRowLengths(filter: PolyphaseFilter): Int32Array | undefined {
  const { table, taps, up } = filter;
  const lens = new Int32Array(up);
  for (let p = 0; p < up; p++) {
    const row = table.subarray(p * taps, (p + 1) * taps);
    let len = taps;
    while (len > 0 && row[len - 1] === 0) len--;
    if (len === 0) return undefined;
    for (let k = 0; k < len; k++) if (row[k] !== row[len - 1 - k]) return undefined;
    lens[p] = len;
  }
  return lens;
}

export class StreamingResampler {
  /** Frames in each channel buffer (history plus pending input). */
  private fill: number;
  /** Position of the next output in the buffer, in 1/up input samples. */
  private pos = 0;
  private framesIn = 0;
  private framesOut = 0;

  constructor(
    readonly filter: PolyphaseFilter,
    readonly channels: number,
    private readonly kernel: ResampleKernel,
  ) {
    this.fill = this.initialFill();
  }

  /** Zeros before the first sample, so the first output's window is centred on it. */
  private initialFill(): number {
    const history = this.filter.taps / 2 - 1;
    for (let c = 0; c < this.channels; c++) this.kernel.input(c).fill(0, 0, history);
    return history;
  }

  /** Resamples interleaved input; returns the interleaved outputs now complete. */
  push(samples: Float32Array): Float32Array {
    const frames = samples.length / this.channels;
    if (frames <= MAX_CHUNK_FRAMES) return this.pushPiece(samples, frames);
    const pieces: Float32Array[] = [];
    for (let start = 0; start < frames; start += MAX_CHUNK_FRAMES) {
      const end = Math.min(frames, start + MAX_CHUNK_FRAMES);
      pieces.push(
        this.pushPiece(samples.subarray(start * this.channels, end * this.channels), end - start),
      );
    }
    return concatSamples(pieces);
  }

  /**
   * Where the next mono input would be copied in the kernel's input buffer: a stage
   * before this one may write its output there (push then sees it in place and does
   * not copy it). Undefined for more than one channel (the buffers are per channel).
   */
  inputSlot(): Float32Array | undefined {
    return this.channels === 1 ? this.kernel.input(0).subarray(this.fill) : undefined;
  }

  /** Emits the remaining outputs (the input padded with silence) and starts afresh. */
  flush(): Float32Array {
    const expected = Math.ceil((this.framesIn * this.filter.up) / this.filter.down);
    const padding = new Float32Array((this.filter.taps / 2) * this.channels);
    const tail = this.pushPiece(padding, padding.length / this.channels, expected - this.framesOut);
    this.fill = this.initialFill();
    this.pos = 0;
    this.framesIn = 0;
    this.framesOut = 0;
    return tail;
  }

  private pushPiece(
    samples: Float32Array,
    frames: number,
    limit = Number.POSITIVE_INFINITY,
  ): Float32Array {
    const { channels, kernel } = this;
    const { up, down, taps } = this.filter;
    if (channels === 1) {
      const input = kernel.input(0);
      const inPlace =
        samples.buffer === input.buffer && samples.byteOffset === input.byteOffset + this.fill * 4;
      if (!inPlace) input.set(samples, this.fill);
    } else {
      for (let c = 0; c < channels; c++) {
        const input = kernel.input(c);
        for (let i = 0, at = this.fill; i < frames; i++, at++)
          input[at] = samples[i * channels + c]!;
      }
    }
    if (limit === Number.POSITIVE_INFINITY) this.framesIn += frames;
    const available = this.fill + frames;
    const possible = Math.ceil(((available - taps + 1) * up - this.pos) / down);
    const count = Math.max(0, Math.min(possible, limit));
    for (let c = 0; c < channels; c++) kernel.run(c, this.pos, count, channels);
    // Out of WASM memory into slab memory: no ArrayBuffer (and its sweep) per push.
    const result = slabFloat32(count * channels);
    result.set(kernel.output().subarray(0, count * channels));

    this.framesOut += count;
    this.pos += count * down;
    const consumed = Math.floor(this.pos / up);
    for (let c = 0; c < channels; c++) kernel.input(c).copyWithin(0, consumed, available);
    this.fill = available - consumed;
    this.pos -= consumed * up;
    return result;
  }
}

/** The pieces one after another, in one new array (a stream's pushes, a chunked result). */
export function concatSamples(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
