/**
 * Resampling quality, ours against sox (Debian) on the same input: the SNR of
 * in-band sines against a least-squares sine fit, and how far content above the
 * new Nyquist is suppressed (aliasing). Shared by the test (thresholds) and the
 * benchmark (the figures in docs/BENCHMARKS.md).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DspInstance } from '../../web/core/nodes/audio/dsp-module.ts';
import { createResampler } from '../../web/core/nodes/audio/resample-cascade.ts';
import { planResample, type ResampleQuality } from '../../web/core/nodes/audio/resample-filter.ts';
import { readWav, writeWavFloat32 } from './wav.ts';

export async function resampleWithRuntime(
  input: Float32Array,
  from: number,
  to: number,
  quality?: ResampleQuality,
): Promise<Float32Array> {
  // The Resample node's path: half-band stages where the plan has them, then polyphase.
  const resampler = createResampler(from, to, 1, await DspInstance.create(), quality);
  const head = resampler.push(input);
  const tail = resampler.flush();
  const out = new Float32Array(head.length + tail.length);
  out.set(head);
  out.set(tail, head.length);
  return out;
}

/**
 * sox's `rate` effect at its default (high) quality, float32 in and out. Returns its
 * warnings too: a quality figure is only meaningful if sox did not clip ("clipped").
 */
export function resampleWithSox(
  input: Float32Array,
  from: number,
  to: number,
): { samples: Float32Array; warnings: string } {
  const dir = mkdtempSync(join(tmpdir(), 'rm-sox-'));
  try {
    writeWavFloat32(join(dir, 'in.wav'), { samples: input, sampleRate: from, channels: 1 });
    const run = spawnSync(
      'sox',
      [
        join(dir, 'in.wav'),
        '-e',
        'floating-point',
        '-b',
        '32',
        join(dir, 'out.wav'),
        'rate',
        String(to),
      ],
      { encoding: 'utf8' },
    );
    if (run.status !== 0) throw new Error(`sox failed (${run.status}): ${run.stderr}`);
    return { samples: readWav(join(dir, 'out.wav')).samples, warnings: run.stderr.trim() };
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
 * The least-squares fit a sin + b cos of one sine of frequency freq to y[from, to):
 * its two coefficients (its amplitude is their hypot).
 */
export function fitSine(
  y: Float32Array,
  freq: number,
  rate: number,
  from: number,
  to: number,
): { a: number; b: number } {
  let ss = 0;
  let sc = 0;
  let cc = 0;
  let ys = 0;
  let yc = 0;
  for (let i = from; i < to; i++) {
    const s = Math.sin((2 * Math.PI * freq * i) / rate);
    const c = Math.cos((2 * Math.PI * freq * i) / rate);
    ss += s * s;
    sc += s * c;
    cc += c * c;
    ys += y[i]! * s;
    yc += y[i]! * c;
  }
  const det = ss * cc - sc * sc;
  return { a: (ys * cc - yc * sc) / det, b: (yc * ss - ys * sc) / det };
}

/**
 * SNR in dB of y against the best-fitting sine of frequency freq (any amplitude and
 * phase), ignoring `trim` samples at each end.
 */
export function sineFitSnrDb(y: Float32Array, freq: number, rate: number, trim: number): number {
  const { a, b } = fitSine(y, freq, rate, trim, y.length - trim);
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
 * SNR in dB of y against the best least-squares fit of sines at the given
 * frequencies (any amplitude and phase each), over y[skipStart, length - skipEnd).
 * Everything the fit does not explain (images, aliases, rounding) is noise.
 */
export function sinePairSnrDb(
  y: Float32Array,
  freqs: readonly number[],
  rate: number,
  skipStart: number,
  skipEnd: number,
): number {
  const end = y.length - skipEnd;
  const basis = (i: number): number[] =>
    freqs.flatMap((f) => [
      Math.sin((2 * Math.PI * f * i) / rate),
      Math.cos((2 * Math.PI * f * i) / rate),
    ]);
  const n = 2 * freqs.length;
  // Normal equations [A | b], solved by Gauss-Jordan elimination with partial pivoting.
  const a = Array.from({ length: n }, () => new Float64Array(n + 1));
  for (let i = skipStart; i < end; i++) {
    const b = basis(i);
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < n; c++) a[r]![c]! += b[r]! * b[c]!;
      a[r]![n]! += b[r]! * y[i]!;
    }
  }
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++)
      if (Math.abs(a[r]![col]!) > Math.abs(a[pivot]![col]!)) pivot = r;
    [a[col], a[pivot]] = [a[pivot]!, a[col]!];
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const factor = a[r]![col]! / a[col]![col]!;
      for (let c = col; c <= n; c++) a[r]![c]! -= factor * a[col]![c]!;
    }
  }
  const coef = a.map((row, r) => row[n]! / row[r]!);
  let signal = 0;
  let noise = 0;
  for (let i = skipStart; i < end; i++) {
    const b = basis(i);
    let fit = 0;
    for (let k = 0; k < n; k++) fit += coef[k]! * b[k]!;
    signal += fit * fit;
    noise += (y[i]! - fit) ** 2;
  }
  return 10 * Math.log10(signal / noise);
}

/**
 * Noise made of many random sines between the new Nyquist (times 1 + margin) and
 * the old one, scaled to `peak` (0.6: well inside [-1, 1], so no resampler clips it;
 * 200 unscaled sines would peak near 3 and sox would clip them).
 */
export function aboveNyquistNoise(
  from: number,
  to: number,
  frames: number,
  margin = 0,
  seed = 1,
  peak = 0.6,
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
    for (let i = 0; i < frames; i++) out[i] += Math.sin((2 * Math.PI * freq * i) / from + phase);
  }
  let max = 0;
  for (const v of out) max = Math.max(max, Math.abs(v));
  for (let i = 0; i < frames; i++) out[i] *= peak / max;
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
  /** What sox printed on stderr (empty when it neither clipped nor warned). */
  soxWarnings: string;
}

export async function sineQuality(
  from: number,
  to: number,
  fractions: number[],
): Promise<QualityRow[]> {
  const { passbandEdge } = planResample(from, to);
  const rows: QualityRow[] = [];
  for (const fraction of fractions) {
    const freq = Math.round(fraction * passbandEdge * to);
    const input = sine(freq, from, from);
    const trim = Math.round(to * 0.05);
    const sox = resampleWithSox(input, from, to);
    rows.push({
      pair: `${from} -> ${to}`,
      freq,
      oursSnrDb: sineFitSnrDb(await resampleWithRuntime(input, from, to), freq, to, trim),
      soxSnrDb: sineFitSnrDb(sox.samples, freq, to, trim),
      soxWarnings: sox.warnings,
    });
  }
  return rows;
}

export async function aliasing(from: number, to: number, margin = 0) {
  const input = aboveNyquistNoise(from, to, from, margin);
  const trim = Math.round(to * 0.05);
  const inputDb = rmsDb(input);
  const sox = resampleWithSox(input, from, to);
  let inputPeak = 0;
  for (const v of input) inputPeak = Math.max(inputPeak, Math.abs(v));
  return {
    pair: `${from} -> ${to}`,
    inputPeak,
    oursDb: rmsDb(await resampleWithRuntime(input, from, to), trim) - inputDb,
    soxDb: rmsDb(sox.samples, trim) - inputDb,
    soxWarnings: sox.warnings,
  };
}
