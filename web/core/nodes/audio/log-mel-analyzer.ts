/**
 * Streaming Whisper log-mel analysis of 16 kHz mono audio. Frames are those of
 * torch.stft(center=True, pad_mode='reflect') with Whisper's last frame dropped:
 * frame t covers samples [160 t - 200, 160 t + 200), reflected at the ends, and a
 * stream of L samples gives floor(L / 160) frames. Each frame is computed as soon
 * as its samples are there; the end reflection waits for finish().
 *
 * Output values are log10(max(mel power, 1e-10)); the dynamic-range clamp and
 * scaling Whisper applies afterwards are in whisperScale().
 */
import type { DspInstance } from './dsp-module.ts';
import {
  melFilterbank,
  WHISPER_HOP,
  WHISPER_N_FFT,
  WHISPER_SAMPLE_RATE,
  windowedDftBasis,
} from './mel-filterbank.ts';

const HALF = WHISPER_N_FFT / 2;
const BINS = WHISPER_N_FFT / 2 + 1;

export interface MelKernel {
  readonly name: string;
  /** The frame buffer the caller fills with WHISPER_N_FFT samples. */
  frame(): Float32Array;
  /** log10 mel energies of the current frame, into out[0..nMels). */
  run(out: Float32Array, at: number): void;
}

export function typescriptMelKernel(nMels: number): MelKernel {
  const basis = windowedDftBasis(WHISPER_N_FFT);
  const filters = melFilterbank(WHISPER_SAMPLE_RATE, WHISPER_N_FFT, nMels);
  const frame = new Float32Array(WHISPER_N_FFT);
  const power = new Float32Array(BINS);
  return {
    name: 'typescript',
    frame: () => frame,
    run(out, at) {
      for (let k = 0; k < BINS; k++) {
        let re = 0;
        let im = 0;
        const c = k * WHISPER_N_FFT;
        const s = (BINS + k) * WHISPER_N_FFT;
        for (let n = 0; n < WHISPER_N_FFT; n++) {
          re += basis[c + n]! * frame[n]!;
          im += basis[s + n]! * frame[n]!;
        }
        power[k] = re * re + im * im;
      }
      for (let m = 0; m < nMels; m++) {
        let e = 0;
        for (let k = 0; k < BINS; k++) e += filters[m * BINS + k]! * power[k]!;
        out[at + m] = Math.log10(Math.max(e, 1e-10));
      }
    },
  };
}

export function wasmMelKernel(nMels: number, dsp: DspInstance): MelKernel {
  const basis = windowedDftBasis(WHISPER_N_FFT);
  const filters = melFilterbank(WHISPER_SAMPLE_RATE, WHISPER_N_FFT, nMels);
  const basisPtr = dsp.alloc(basis.byteLength);
  const filtersPtr = dsp.alloc(filters.byteLength);
  const framePtr = dsp.alloc(WHISPER_N_FFT * 4);
  const powerPtr = dsp.alloc(BINS * 4);
  const melPtr = dsp.alloc(nMels * 4);
  dsp.f32(basisPtr, basis.length).set(basis);
  dsp.f32(filtersPtr, filters.length).set(filters);
  const frame = dsp.f32(framePtr, WHISPER_N_FFT);
  const mel = dsp.f32(melPtr, nMels);
  const { dftPower, matVec } = dsp.exports;
  return {
    name: `wasm-${dsp.variant}`,
    frame: () => frame,
    run(out, at) {
      dftPower(basisPtr, framePtr, WHISPER_N_FFT, BINS, powerPtr);
      matVec(filtersPtr, powerPtr, nMels, BINS, melPtr);
      for (let m = 0; m < nMels; m++) out[at + m] = Math.log10(Math.max(mel[m]!, 1e-10));
    },
  };
}

export class LogMelAnalyzer {
  /** Reflect-padded signal from the start of the next frame on. */
  private padded = new Float32Array(4096);
  private length = 0;
  /** Samples received, and whether the start reflection has been written. */
  private received = 0;
  private started = false;
  private head: Float32Array = new Float32Array(HALF + 1);

  constructor(
    readonly nMels: number,
    private readonly kernel: MelKernel,
  ) {}

  /** Frames completed by these samples, as frames x nMels values (frame-major). */
  push(samples: Float32Array): Float32Array {
    if (!this.started) {
      // The start reflection needs samples 1..200: hold the first 201 back until then.
      const take = Math.min(samples.length, HALF + 1 - this.received);
      this.head.set(samples.subarray(0, take), this.received);
      this.received += take;
      if (this.received < HALF + 1) return new Float32Array(0);
      this.started = true;
      for (let j = HALF; j >= 1; j--) this.append(this.head.subarray(j, j + 1));
      this.append(this.head);
      samples = samples.subarray(take);
    }
    this.received += samples.length;
    this.append(samples);
    return this.frames();
  }

  /** The frames that need the end reflection; then the analyzer starts afresh. */
  finish(): Float32Array {
    const total = this.received;
    if (!this.started) {
      // Under 201 samples: build the whole padded signal, reflecting as far as it goes.
      const x = this.head.subarray(0, total);
      const padded = new Float32Array(total + 2 * HALF);
      for (let i = -HALF; i < total + HALF; i++) padded[i + HALF] = reflectAt(x, i);
      this.append(padded);
    } else {
      // x[L - 1 - j] for j = 1..200, still held: the next frame starts at most 40 samples before L.
      const last = this.length - 1;
      const tail = new Float32Array(HALF);
      for (let j = 1; j <= HALF; j++) tail[j - 1] = this.padded[last - j]!;
      this.append(tail);
    }
    const out = this.frames(Math.floor(total / WHISPER_HOP) - this.emitted);
    this.reset();
    return out;
  }

  private emitted = 0;

  private frames(limit = Number.POSITIVE_INFINITY): Float32Array {
    const ready = Math.min(limit, Math.floor((this.length - WHISPER_N_FFT) / WHISPER_HOP) + 1);
    const count = Math.max(0, ready);
    const out = new Float32Array(count * this.nMels);
    const frame = this.kernel.frame();
    for (let t = 0; t < count; t++) {
      frame.set(this.padded.subarray(t * WHISPER_HOP, t * WHISPER_HOP + WHISPER_N_FFT));
      this.kernel.run(out, t * this.nMels);
    }
    const consumed = count * WHISPER_HOP;
    this.padded.copyWithin(0, consumed, this.length);
    this.length -= consumed;
    this.emitted += count;
    return out;
  }

  private append(samples: Float32Array): void {
    if (this.length + samples.length > this.padded.length) {
      const grown = new Float32Array(
        Math.max(this.length + samples.length, this.padded.length * 2),
      );
      grown.set(this.padded.subarray(0, this.length));
      this.padded = grown;
    }
    this.padded.set(samples, this.length);
    this.length += samples.length;
  }

  private reset(): void {
    this.length = 0;
    this.received = 0;
    this.started = false;
    this.emitted = 0;
  }
}

function reflectAt(x: Float32Array, i: number): number {
  const last = x.length - 1;
  const j = i < 0 ? -i : i > last ? 2 * last - i : i;
  return j >= 0 && j <= last ? x[j]! : 0;
}

/**
 * Whisper's last steps: clamp to 8 (i.e. 80 dB) below the maximum, then (x + 4) / 4.
 * In place.
 */
export function whisperScale(values: Float32Array, max: number): Float32Array {
  const floor = max - 8;
  for (let i = 0; i < values.length; i++) values[i] = (Math.max(values[i]!, floor) + 4) / 4;
  return values;
}
