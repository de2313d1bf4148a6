import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DspInstance } from './dsp-module.ts';
import { designPolyphaseFilter } from './resample-filter.ts';
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
  kernel: 'wasm' | 'ts' = 'wasm',
) {
  const filter = designPolyphaseFilter(from, to);
  const k =
    kernel === 'wasm'
      ? wasmResampleKernel(filter, channels, await DspInstance.create())
      : typescriptResampleKernel(filter, channels);
  const r = new StreamingResampler(filter, channels, k);
  const a = r.push(input);
  const b = r.flush();
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
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
  ];

  it.each(pairs)(
    '%i -> %i: in-band sines come out >= 80 dB SNR, aligned, exact length',
    async (from, to) => {
      const seconds = 0.5;
      const frames = from * seconds;
      const { passbandEdge } = designPolyphaseFilter(from, to);
      for (const fraction of [0.05, 0.45, 0.95]) {
        const freq = fraction * passbandEdge * to;
        const out = await oneShot(from, to, sine(freq, from, frames));
        expect(out.length).toBe(Math.ceil((frames * to) / from));
        const snr = snrDb(out, sine(freq, to, out.length), Math.round(to * 0.02));
        expect(snr, `${freq.toFixed(0)} Hz`).toBeGreaterThan(80);
      }
    },
  );

  it('the output does not depend on how the input is chunked (WASM and TS kernels)', async () => {
    const dsp = await DspInstance.create();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...pairs),
        fc.integer({ min: 1, max: 2 }),
        fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 1, maxLength: 8 }),
        fc.boolean(),
        async ([from, to], channels, chunkSizes, useWasm) => {
          const total = chunkSizes.reduce((a, b) => a + b, 0);
          const input = Float32Array.from(
            { length: total * channels },
            (_, i) => Math.sin(i * 0.01) * 0.5,
          );
          const filter = designPolyphaseFilter(from, to);
          const make = () =>
            new StreamingResampler(
              filter,
              channels,
              useWasm
                ? wasmResampleKernel(filter, channels, dsp)
                : typescriptResampleKernel(filter, channels),
            );
          const whole = make();
          const expected = [...whole.push(input), ...whole.flush()];
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
      { numRuns: 40 },
    );
  });

  // 44.1 -> 16 takes the one-output path; 48 -> 16 (shared filter row) and 16 -> 48
  // (shared input window) take the paired path of the WASM kernel; odd lengths end
  // on a single output.
  it.each([
    [44100, 16000],
    [48000, 16000],
    [16000, 48000],
    [22050, 44100],
  ])(
    '%i -> %i: WASM (SIMD and scalar) and the TypeScript twin agree to float32 precision',
    async (from, to) => {
      const input = sine(1000, from, 20001);
      const ts = await oneShot(from, to, input, 1, 'ts');
      const wasm = await oneShot(from, to, input, 1, 'wasm');
      const filter = designPolyphaseFilter(from, to);
      const scalar = new StreamingResampler(
        filter,
        1,
        wasmResampleKernel(filter, 1, await DspInstance.create('scalar')),
      );
      const s = [...scalar.push(input), ...scalar.flush()];
      for (const other of [wasm, Float32Array.from(s)]) {
        expect(other.length).toBe(ts.length);
        expect(snrDb(other, ts, 0)).toBeGreaterThan(130);
      }
    },
  );

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
