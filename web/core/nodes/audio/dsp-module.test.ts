import { describe, expect, it } from 'vitest';
import { DspInstance, DspScratch, dspSimdSupported } from './dsp-module.ts';

/** The SIMD and scalar builds of each elementwise kernel must agree, tail included. */
describe('DSP kernels: SIMD and scalar builds agree', () => {
  const n = 1003; // not a multiple of the vector width, so the scalar tail runs too
  const audio = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) * 1.3);

  async function run(variant: 'simd' | 'scalar') {
    const dsp = await DspInstance.create(variant);
    const a = dsp.alloc(n * 4);
    const b = dsp.alloc(n * 4);
    dsp.f32(a, n).set(audio);
    const clamped = dsp.exports.gain(a, n, 1.5, 1);
    const gained = dsp.f32(a, n).slice();
    const pcm = Int16Array.from(audio, (v) =>
      Math.max(-32768, Math.min(32767, Math.round(v * 20000))),
    );
    dsp.i16(b, n).set(pcm);
    dsp.exports.int16ToFloat(b, a, n);
    const floats = dsp.f32(a, n).slice();
    const sum = dsp.exports.sumSquares(a, n);
    return { clamped, gained, floats, sum };
  }

  it('gain with clipping, int16 -> float32 and sum of squares', async () => {
    expect(dspSimdSupported()).toBe(true);
    const simd = await run('simd');
    const scalar = await run('scalar');
    expect(simd.clamped).toBe(scalar.clamped);
    expect(simd.clamped).toBe(audio.filter((v) => Math.abs(Math.fround(v) * 1.5) > 1).length);
    expect(simd.gained).toEqual(scalar.gained);
    expect(simd.floats).toEqual(scalar.floats);
    expect(simd.sum).toBeCloseTo(scalar.sum, 9);
  });

  it("gainChecked gives gain's output out of place, and -1 (input untouched) on a non-finite sample", async () => {
    for (const variant of ['simd', 'scalar'] as const) {
      const dsp = await DspInstance.create(variant);
      const a = dsp.alloc(n * 4);
      const b = dsp.alloc(n * 4);
      const c = dsp.alloc(n * 4);
      for (const limit of [1, 0]) {
        dsp.f32(a, n).set(audio);
        dsp.f32(c, n).set(audio);
        const clamped = dsp.exports.gainChecked(a, b, n, 1.5, limit);
        expect(clamped).toBe(dsp.exports.gain(c, n, 1.5, limit));
        expect(dsp.f32(b, n)).toEqual(dsp.f32(c, n));
        expect(dsp.f32(a, n)).toEqual(Float32Array.from(audio));
        for (const at of [2, n - 1]) {
          dsp.f32(a, n)[at] = Number.POSITIVE_INFINITY;
          expect(dsp.exports.gainChecked(a, b, n, 1.5, limit)).toBe(-1);
          expect(dsp.f32(a, n)[at]).toBe(Number.POSITIVE_INFINITY);
          dsp.f32(a, n)[at] = audio[at]!;
        }
      }
    }
  });

  it('scratch buffers grow for larger frames and keep working', async () => {
    const dsp = await DspInstance.create();
    const scratch = new DspScratch(dsp);
    const small = scratch.f32(10);
    small.fill(1);
    const big = scratch.f32(200_000);
    big.fill(0.5);
    expect(dsp.exports.sumSquares(scratch.pointer, 200_000)).toBeCloseTo(50_000, 6);
  });
});
