/**
 * Resampling quality, ours against sox (Debian) on the same input: the SNR of
 * in-band sines against a least-squares sine fit, and how far content above the
 * new Nyquist is suppressed (aliasing). Shared by the test (thresholds) and the
 * benchmark (the figures in docs/BENCHMARKS.md).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DspInstance } from '../../web/core/nodes/audio/dsp-module.ts';
import {
  designPolyphaseFilter,
  type ResampleQuality,
} from '../../web/core/nodes/audio/resample-filter.ts';
import { StreamingResampler, wasmResampleKernel } from '../../web/core/nodes/audio/resampler.ts';
import { readWav, writeWavFloat32 } from './wav.ts';

export async function resampleWithRuntime(
  input: Float32Array,
  from: number,
  to: number,
  quality?: ResampleQuality,
): Promise<Float32Array> {
  const filter = designPolyphaseFilter(from, to, quality);
  const resampler = new StreamingResampler(
    filter,
    1,
    wasmResampleKernel(filter, 1, await DspInstance.create()),
  );
  const head = resampler.push(input);
  const tail = resampler.flush();
  const out = new Float32Array(head.length + tail.length);
  out.set(head);
  out.set(tail, head.length);
  return out;
}

/** sox's `rate` effect at its default (high) quality, float32 in and out. */
export function resampleWithSox(input: Float32Array, from: number, to: number): Float32Array {
  const dir = mkdtempSync(join(tmpdir(), 'rm-sox-'));
  try {
    writeWavFloat32(join(dir, 'in.wav'), { samples: input, sampleRate: from, channels: 1 });
    execFileSync('sox', [
      join(dir, 'in.wav'),
      '-e',
      'floating-point',
      '-b',
      '32',
      join(dir, 'out.wav'),
      'rate',
      String(to),
    ]);
    return readWav(join(dir, 'out.wav')).samples;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function sine(freq: number, rate: number, frames: number): Float32Array {
  return Float32Array.from(
    { length: frames },
    (_, i) => 0.5 * Math.sin((2 * Math.PI * freq * i) / rate),
  );
}

/**
 * SNR in dB of y against the best-fitting sine of frequency freq (any amplitude and
 * phase), ignoring `trim` samples at each end.
 */
export function sineFitSnrDb(y: Float32Array, freq: number, rate: number, trim: number): number {
  let ss = 0;
  let sc = 0;
  let cc = 0;
  let ys = 0;
  let yc = 0;
  for (let i = trim; i < y.length - trim; i++) {
    const s = Math.sin((2 * Math.PI * freq * i) / rate);
    const c = Math.cos((2 * Math.PI * freq * i) / rate);
    ss += s * s;
    sc += s * c;
    cc += c * c;
    ys += y[i]! * s;
    yc += y[i]! * c;
  }
  const det = ss * cc - sc * sc;
  const a = (ys * cc - yc * sc) / det;
  const b = (yc * ss - ys * sc) / det;
  let signal = 0;
  let noise = 0;
  for (let i = trim; i < y.length - trim; i++) {
    const fit =
      a * Math.sin((2 * Math.PI * freq * i) / rate) + b * Math.cos((2 * Math.PI * freq * i) / rate);
    signal += fit * fit;
    noise += (y[i]! - fit) ** 2;
  }
  return 10 * Math.log10(signal / noise);
}

/**
 * Noise made of many random sines between the new Nyquist (times 1 + margin) and
 * the old one.
 */
export function aboveNyquistNoise(
  from: number,
  to: number,
  frames: number,
  margin = 0,
  seed = 1,
): Float32Array {
  let state = seed;
  const random = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  const low = (to / 2) * (1 + margin) + 20;
  const high = from / 2 - 20;
  const out = new Float32Array(frames);
  const count = 200;
  for (let s = 0; s < count; s++) {
    const freq = low + random() * (high - low);
    const phase = random() * 2 * Math.PI;
    for (let i = 0; i < frames; i++)
      out[i] += Math.sin((2 * Math.PI * freq * i) / from + phase) / Math.sqrt(count);
  }
  return out;
}

export function rmsDb(y: Float32Array, trim = 0): number {
  let sum = 0;
  for (let i = trim; i < y.length - trim; i++) sum += y[i]! * y[i]!;
  return 10 * Math.log10(sum / (y.length - 2 * trim));
}

export interface QualityRow {
  pair: string;
  freq: number;
  oursSnrDb: number;
  soxSnrDb: number;
}

export async function sineQuality(
  from: number,
  to: number,
  fractions: number[],
): Promise<QualityRow[]> {
  const { passbandEdge } = designPolyphaseFilter(from, to);
  const rows: QualityRow[] = [];
  for (const fraction of fractions) {
    const freq = Math.round(fraction * passbandEdge * to);
    const input = sine(freq, from, from);
    const trim = Math.round(to * 0.05);
    rows.push({
      pair: `${from} -> ${to}`,
      freq,
      oursSnrDb: sineFitSnrDb(await resampleWithRuntime(input, from, to), freq, to, trim),
      soxSnrDb: sineFitSnrDb(resampleWithSox(input, from, to), freq, to, trim),
    });
  }
  return rows;
}

export async function aliasing(from: number, to: number, margin = 0) {
  const input = aboveNyquistNoise(from, to, from, margin);
  const trim = Math.round(to * 0.05);
  const inputDb = rmsDb(input);
  return {
    pair: `${from} -> ${to}`,
    oursDb: rmsDb(await resampleWithRuntime(input, from, to), trim) - inputDb,
    soxDb: rmsDb(resampleWithSox(input, from, to), trim) - inputDb,
  };
}
