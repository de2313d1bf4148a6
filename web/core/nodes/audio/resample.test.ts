import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DspInstance } from './dsp-module.ts';
import { createResampler } from './resample-cascade.ts';
import {
  designHalfband,
  designPolyphaseFilter,
  planResample,
  RESAMPLE_QUALITIES,
  type ResampleQuality,
} from './resample-filter.ts';
import {
  HalfbandDecimator,
  typescriptHalfbandKernel,
  wasmHalfbandKernel,
} from './resample-halfband.ts';
import { StreamingResampler, typescriptResampleKernel, wasmResampleKernel } from './resampler.ts';

function sine(freq: number, rate: number, frames: number, phase = 0): Float32Array {
  return Float32Array.from({ length: frames }, (_, i) =>
    Math.sin((2 * Math.PI * freq * i) / rate + phase),
  );
}

function snrDb(actual: Float32Array, expected: Float32Array, trim: number): number {
  let signal = 0;
  let noise = 0;
  for (let i = trim; i < Math.min(actual.length, expected.length) - trim; i++) {
    signal += expected[i]! ** 2;
    noise += (actual[i]! - expected[i]!) ** 2;
  }
  return 10 * Math.log10(signal / noise);
}

async function oneShot(
  from: number,
  to: number,
  input: Float32Array,
  channels = 1,
  kernel: 'simd' | 'scalar' | 'ts' = 'simd',
) {
  const r = createResampler(
    from,
    to,
    channels,
    kernel === 'ts' ? 'typescript' : await DspInstance.create(kernel),
  );
  const a = r.push(input);
  const b = r.flush();
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Gain in dB of the half-band filter at f (a fraction of its input rate). */
function halfbandGainDb(filter: ReturnType<typeof designHalfband>, f: number): number {
  let h = filter.centre;
  for (let m = 0; m < filter.taps.length; m++) {
    const offset = 2 * m - 2 * filter.half + 1;
    h += filter.taps[m]! * Math.cos(2 * Math.PI * f * offset);
  }
  return 20 * Math.log10(Math.abs(h));
}

describe('StreamingResampler', () => {
  const pairs: [number, number][] = [
    [48000, 16000],
    [44100, 16000],
    [16000, 48000],
    [22050, 44100],
    [8000, 24000],
    [32000, 44100],
    [44100, 48000],
    [48000, 8000],
  ];

  it('plans half-band stages for large downsampling ratios only', () => {
    const stages = (from: number, to: number) => planResample(from, to).halfbands.length;
    expect(stages(48000, 16000)).toBe(1);
    expect(stages(44100, 16000)).toBe(1);
    expect(stages(48000, 8000)).toBe(2);
    expect(stages(32000, 16000)).toBe(0);
    expect(stages(16000, 48000)).toBe(0);
    expect(stages(22050, 44100)).toBe(0);
    // Short filters stay one stage (see planResample).
    expect(planResample(48000, 16000, 'low').halfbands).toHaveLength(0);
    expect(planResample(48000, 16000, 'medium').halfbands).toHaveLength(0);
    expect(planResample(48000, 16000, 'best').halfbands).toHaveLength(1);
    // 48 -> 16: the sharp stage runs at 24 kHz, about half the taps of the direct filter.
    const plan = planResample(48000, 16000);
    expect(plan.filter).toEqual(designPolyphaseFilter(24000, 16000));
    expect(plan.filter.taps).toBeLessThanOrEqual(designPolyphaseFilter(48000, 16000).taps * 0.55);
    expect(plan.passbandEdge).toBeCloseTo(designPolyphaseFilter(48000, 16000).passbandEdge, 12);
  });

  it.each([
    [48000, 16000],
    [48000, 8000],
    [44100, 16000],
  ])(
    '%i -> %i: a few frames through the half-band cascade come out at the exact length',
    (from, to) => {
      for (const frames of [0, 1, 2, 3, 5, 7, 11]) {
        const r = createResampler(from, to, 2, 'typescript');
        const out = [...r.push(new Float32Array(frames * 2).fill(0.5)), ...r.flush()];
        expect(out.length, `${frames} frames`).toBe(Math.ceil((frames * to) / from) * 2);
        // A stream after flush starts afresh: the same input gives the same output.
        expect([...r.push(new Float32Array(frames * 2).fill(0.5)), ...r.flush()]).toEqual(out);
      }
    },
  );

  it.each(['high', 'best'] as ResampleQuality[])(
    '%s: the half-band stage is flat to the output Nyquist and stops what would fold below it',
    (quality) => {
      const { attenuationDb } = RESAMPLE_QUALITIES[quality];
      for (const [from, to] of [
        [48000, 16000],
        [44100, 16000],
      ] as const) {
        const filter = planResample(from, to, quality).halfbands[0]!;
        const pass = to / 2 / from;
        let worstPass = 0;
        let worstStop = -Infinity;
        for (let f = 0; f <= 0.5; f += 1 / 4096) {
          const g = halfbandGainDb(filter, f);
          if (f <= pass) worstPass = Math.max(worstPass, Math.abs(g));
          if (f >= 0.5 - pass) worstStop = Math.max(worstStop, g);
        }
        // Within 2 dB of the target (the equiripple half-band is checked at 140 dB in
        // resample-remez.test.ts). Its passband ripple is its stopband's (a half-band's
        // are equal); a linear ripple d is 8.7 d in dB.
        expect(worstStop, `${from} -> ${to} stopband`).toBeLessThan(-(attenuationDb - 2));
        expect(worstPass, `${from} -> ${to} passband ripple`).toBeLessThan(
          8.7 * 10 ** (-(attenuationDb - 10) / 20),
        );
      }
    },
  );

  it.each(pairs)(
    '%i -> %i: in-band sines come out >= 80 dB SNR, aligned, exact length',
    async (from, to) => {
      const seconds = 0.5;
      const frames = from * seconds;
      const { passbandEdge } = planResample(from, to);
      for (const fraction of [0.05, 0.45, 0.95]) {
        const freq = fraction * passbandEdge * to;
        const out = await oneShot(from, to, sine(freq, from, frames));
        expect(out.length).toBe(Math.ceil((frames * to) / from));
        const snr = snrDb(out, sine(freq, to, out.length), Math.round(to * 0.02));
        expect(snr, `${freq.toFixed(0)} Hz`).toBeGreaterThan(80);
      }
    },
  );

  it('the output does not depend on how the input is chunked (WASM and TS kernels, one stage or the cascade)', async () => {
    const dsp = await DspInstance.create();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...pairs),
        fc.integer({ min: 1, max: 2 }),
        fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 1, maxLength: 8 }),
        fc.boolean(),
        fc.boolean(),
        async ([from, to], channels, chunkSizes, useWasm, cascade) => {
          const total = chunkSizes.reduce((a, b) => a + b, 0);
          const input = Float32Array.from(
            { length: total * channels },
            (_, i) => Math.sin(i * 0.01) * 0.5,
          );
          const filter = designPolyphaseFilter(from, to);
          const make = () =>
            cascade
              ? createResampler(from, to, channels, useWasm ? dsp : 'typescript')
              : new StreamingResampler(
                  filter,
                  channels,
                  useWasm
                    ? wasmResampleKernel(filter, channels, dsp)
                    : typescriptResampleKernel(filter, channels),
                );
          const whole = make();
          const expected = [...whole.push(input), ...whole.flush()];
          expect(expected.length).toBe(Math.ceil((total * to) / from) * channels);
          const chunked = make();
          const got: number[] = [];
          let at = 0;
          for (const size of chunkSizes) {
            got.push(...chunked.push(input.subarray(at * channels, (at + size) * channels)));
            at += size;
          }
          got.push(...chunked.flush());
          expect(got).toEqual(expected);
        },
      ),
      { numRuns: 60 },
    );
  });

  // 44.1 -> 16 runs a half-band stage, then the one-output path (320 phases); 48 -> 16 a
  // half-band stage, then phase-grouped quads (24 -> 16: 2 phases); 16 -> 48 and
  // 22.05 -> 44.1 phase-grouped quads and pairs; 48 -> 8 two half-band stages. Odd
  // lengths end on a single output. Stereo runs the strided paths.
  it.each([
    [44100, 16000],
    [48000, 16000],
    [16000, 48000],
    [22050, 44100],
    [48000, 8000],
  ])(
    '%i -> %i: WASM (SIMD and scalar) and the TypeScript twin agree to float32 precision',
    async (from, to) => {
      for (const channels of [1, 2]) {
        const mono = sine(1000, from, 20001);
        const input = Float32Array.from({ length: mono.length * channels }, (_, i) =>
          i % channels === 0 ? mono[i / channels]! : -0.5 * mono[(i - 1) / channels]!,
        );
        const ts = await oneShot(from, to, input, channels, 'ts');
        for (const kernel of ['simd', 'scalar'] as const) {
          const other = await oneShot(from, to, input, channels, kernel);
          expect(other.length).toBe(ts.length);
          expect(snrDb(other, ts, 0), `${kernel}, ${channels} ch`).toBeGreaterThan(130);
        }
      }
    },
  );

  it('a half-band stage writes into a target what it would return (in its own memory, a JS array, or its own buffer when the target is too short)', async () => {
    const dsp = await DspInstance.create();
    const filter = planResample(48000, 16000).halfbands[0]!;
    for (const channels of [1, 2]) {
      const input = Float32Array.from({ length: 2000 * channels }, (_, i) => Math.sin(i * 0.37));
      const kernels = [
        () => wasmHalfbandKernel(filter, channels, dsp),
        () => typescriptHalfbandKernel(filter, channels),
      ];
      for (const kernel of kernels) {
        const expected = [...new HalfbandDecimator(filter, channels, kernel()).push(input)];
        // Each decimator before its target: allocating may grow memory and detach views.
        const targets = [
          (): Float32Array => dsp.f32(dsp.alloc(4 * 4096), 4096),
          () => new Float32Array(4096),
          () => new Float32Array(3),
        ];
        for (const makeTarget of targets) {
          const decimator = new HalfbandDecimator(filter, channels, kernel());
          const target = makeTarget();
          const got = decimator.push(input, Number.POSITIVE_INFINITY, target);
          expect([...got]).toEqual(expected);
          if (target.length >= got.length)
            expect([...target.subarray(0, got.length)]).toEqual(expected);
        }
      }
    }
  });

  it('keeps stereo channels apart', async () => {
    const frames = 24000;
    const left = sine(440, 48000, frames);
    const right = sine(1300, 48000, frames);
    const interleaved = new Float32Array(frames * 2);
    for (let i = 0; i < frames; i++) {
      interleaved[2 * i] = left[i]!;
      interleaved[2 * i + 1] = right[i]!;
    }
    const out = await oneShot(48000, 16000, interleaved, 2);
    const outLeft = out.filter((_, i) => i % 2 === 0);
    const outRight = out.filter((_, i) => i % 2 === 1);
    expect(snrDb(outLeft, sine(440, 16000, outLeft.length), 320)).toBeGreaterThan(80);
    expect(snrDb(outRight, sine(1300, 16000, outRight.length), 320)).toBeGreaterThan(80);
  });
});
