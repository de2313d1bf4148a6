import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RemoteMediaError } from '../../errors.ts';
import {
  designHalfband,
  designPolyphaseFilter,
  kaiserHalfband,
  EQUIRIPPLE_IMAGE_ATTENUATION_DB,
  EQUIRIPPLE_PASS_RIPPLE,
  planResample,
  RESAMPLE_QUALITIES,
  type PolyphaseFilter,
  type ResampleQuality,
} from './resample-filter.ts';
import { MAX_REMEZ_TAPS, remezLowpass } from './resample-remez.ts';
import { symmetricRowLengths } from './resampler.ts';

/**
 * The shipped float32 table's response, its rows interleaved back into the
 * prototype (at up times the input rate), by a direct cosine sum: independent of
 * the design's own check (Clenshaw). Returns the peak stopband gain and the
 * passband's lowest and highest gain, on a grid of 32 points per extremal spacing.
 */
function measure(filter: PolyphaseFilter, fromRate: number, toRate: number) {
  const { up, down, taps, table } = filter;
  const half = taps / 2;
  const offsets: number[] = [];
  const values: number[] = [];
  for (let p = 0; p < up; p++) {
    for (let k = 0; k < taps; k++) {
      offsets.push(p + up * (half - 1 - k));
      values.push(table[p * taps + k]! / up);
    }
  }
  // Real: the prototype is symmetric (each row is, checked below).
  const gain = (f: number) => {
    let re = 0;
    for (let i = 0; i < offsets.length; i++)
      re += values[i]! * Math.cos(2 * Math.PI * f * offsets[i]!);
    return Math.abs(re);
  };
  const stopEdge = Math.min(1, up / down) / (2 * up);
  const passEdge = (filter.passbandEdge * toRate) / (fromRate * up);
  const step = 1 / (32 * up * taps);
  let stop = 0;
  // At up 2 the images of the passband, [0.5 - passEdge, 0.5], fold back in band.
  let image = 0;
  for (let f = stopEdge; f <= 0.5; f += step) {
    const g = gain(f);
    stop = Math.max(stop, g);
    if (f >= 0.5 - passEdge) image = Math.max(image, g);
  }
  stop = Math.max(stop, gain(0.5));
  image = Math.max(image, gain(0.5), gain(0.5 - passEdge));
  let low = Infinity;
  let high = 0;
  for (let f = 0; f <= passEdge; f += step) {
    const g = gain(f);
    low = Math.min(low, g);
    high = Math.max(high, g);
  }
  return { stopDb: 20 * Math.log10(stop), imageDb: 20 * Math.log10(image), low, high };
}

function expectShippable(filter: PolyphaseFilter, from: number, to: number, what: string) {
  const { stopDb, imageDb, low, high } = measure(filter, from, to);
  expect(stopDb, `${what}: stopband`).toBeLessThanOrEqual(-140);
  if (filter.up === 2) {
    expect(imageDb, `${what}: image band`).toBeLessThanOrEqual(-EQUIRIPPLE_IMAGE_ATTENUATION_DB);
  }
  // Each row scaled to unit DC gain moves the equiripple passband by up to its ripple.
  expect(1 - low, `${what}: passband low`).toBeLessThanOrEqual(2 * EQUIRIPPLE_PASS_RIPPLE);
  expect(high - 1, `${what}: passband high`).toBeLessThanOrEqual(2 * EQUIRIPPLE_PASS_RIPPLE);
  // The folded kernel's condition: each row symmetric within its length.
  expect(symmetricRowLengths(filter), `${what}: symmetric rows`).toBeDefined();
  // Unit gain at DC for every row.
  for (let p = 0; p < filter.up; p++) {
    let sum = 0;
    for (let k = 0; k < filter.taps; k++) sum += filter.table[p * filter.taps + k]!;
    expect(Math.abs(sum - 1), `${what}: row ${p} DC`).toBeLessThan(1e-6);
  }
}

describe('equiripple (Remez) polyphase design', () => {
  // The benchmark's conversions whose polyphase stage is equiripple: 48 -> 16's
  // 24 -> 16 stage (after its half-band) and 22.05 -> 44.1. (44.1 -> 16's 22.05 -> 16
  // stage has 320 phases and 16 -> 48 has 3: Kaiser, checked in resample.test.ts.)
  it.each(['high', 'best'] as ResampleQuality[])(
    '%s: the shipped tables reach 140 dB with the passband within its bound',
    (quality) => {
      for (const [from, to] of [
        [48000, 16000],
        [22050, 44100],
      ] as const) {
        const plan = planResample(from, to, quality);
        const rate = from / 2 ** plan.halfbands.length;
        expect(plan.filter.design, `${from} -> ${to}`).toBe('equiripple');
        expectShippable(plan.filter, rate, to, `${quality} ${from} -> ${to}`);
      }
      expect(planResample(44100, 16000, quality).filter.design).toBe('kaiser');
      expect(planResample(16000, 48000, quality).filter.design).toBe('kaiser');
    },
  );

  it('is shorter than the Kaiser design it replaces at the same band edges', () => {
    const kaiser = designPolyphaseFilter(24000, 16000, 'high', { maxRemezIterations: 1 });
    const remez = designPolyphaseFilter(24000, 16000, 'high');
    expect(kaiser.design).toBe('kaiser');
    expect(remez.passbandEdge).toBe(kaiser.passbandEdge);
    expect(remez.taps).toBeLessThan(kaiser.taps * 0.85);
  });

  it('holds for any rate pair whose rows are symmetric (up <= 2), at both 140 dB qualities', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(1, 2),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 2, max: 24 }),
        fc.constantFrom<ResampleQuality>('high', 'best'),
        (up, down, base, quality) => {
          fc.pre(down !== up && (up === 1 || down % 2 === 1));
          const [from, to] = [base * 1000 * down, base * 1000 * up];
          const filter = designPolyphaseFilter(from, to, quality);
          // Beyond MAX_REMEZ_TAPS (down 6 at 'best', 8 at 'high') the Kaiser design ships.
          if (down <= 5) expect(filter.design, `${from} -> ${to} ${quality}`).toBe('equiripple');
          if (filter.design === 'equiripple') {
            expect(filter.up * filter.taps).toBeLessThanOrEqual(MAX_REMEZ_TAPS + 2);
            expectShippable(filter, from, to, `${from} -> ${to} ${quality}`);
          }
        },
      ),
      { numRuns: 12 },
    );
  });

  it('is not used below the 140 dB qualities, nor where rows are not symmetric', () => {
    expect(designPolyphaseFilter(24000, 16000, 'low').design).toBe('kaiser');
    expect(designPolyphaseFilter(24000, 16000, 'medium').design).toBe('kaiser');
    expect(designPolyphaseFilter(16000, 48000).design).toBe('kaiser');
    expect(RESAMPLE_QUALITIES.high.attenuationDb).toBe(140);
  });

  it('an exchange that does not converge raises a typed error, and the resampler ships Kaiser', () => {
    const spec = { passEdge: 0.1344, stopEdge: 1 / 6, stopWeight: 300, zeroAtHalf: true };
    expect(() => remezLowpass(105, spec, 1)).toThrow(RemoteMediaError);
    try {
      remezLowpass(105, spec, 1);
    } catch (error) {
      expect((error as RemoteMediaError).kind).toBe('node_failed');
      expect((error as Error).message).toMatch(/did not converge in 1 iterations/);
    }
    const fallback = designPolyphaseFilter(24000, 16000, 'high', { maxRemezIterations: 1 });
    expect(fallback.design).toBe('kaiser');
    // The Kaiser design is the one the qualities table describes: 2 * 48 zero crossings
    // at the lower rate (16 kHz), so 144 taps at 24 kHz.
    expect(fallback.taps).toBe(144);
  });

  it('bad bands are a usage error that says what would be valid', () => {
    const bad = () => remezLowpass(50, { passEdge: 0.3, stopEdge: 0.2, stopWeight: 1 });
    expect(bad).toThrow(/0 < passEdge < stopEdge < 0.5/);
    try {
      bad();
    } catch (error) {
      expect((error as RemoteMediaError).kind).toBe('usage');
    }
  });

  it('matches the equiripple solution: equal peaks in the passband and the stopband', () => {
    // A short design, where every lobe is checked on a fine grid: each band's peak
    // error is delta (passband) and delta / weight (stopband), to the 8 points per
    // extremal grid's accuracy (a peak between grid points: 1 - cos(pi / 16), 2%).
    const spec = { passEdge: 0.2, stopEdge: 0.25, stopWeight: 10 };
    const { taps, delta } = remezLowpass(30, spec);
    const m = (taps.length - 1) / 2;
    const amp = (f: number) => {
      let s = taps[m]!;
      for (let n = 1; n <= m; n++) s += 2 * taps[m + n]! * Math.cos(2 * Math.PI * f * n);
      return s;
    };
    let pass = 0;
    let stop = 0;
    for (let f = 0; f <= 0.5; f += 1e-5) {
      if (f <= spec.passEdge) pass = Math.max(pass, Math.abs(amp(f) - 1));
      if (f >= spec.stopEdge) stop = Math.max(stop, Math.abs(amp(f)));
    }
    expect(pass / delta).toBeGreaterThan(0.999);
    expect(pass / delta).toBeLessThan(1.02);
    expect((stop * spec.stopWeight) / delta).toBeGreaterThan(0.999);
    expect((stop * spec.stopWeight) / delta).toBeLessThan(1.02);
  });

  it('weights a far band of the stopband: there the peak is delta / (stopWeight farWeight)', () => {
    // The image band at up 2 (LowpassSpec.farEdge): the near stopband stays at
    // delta / stopWeight, the far one 20 dB deeper, each on a fine grid.
    const spec = { passEdge: 0.2, stopEdge: 0.25, stopWeight: 10, farEdge: 0.3, farWeight: 10 };
    const { taps, delta } = remezLowpass(30, spec);
    const m = (taps.length - 1) / 2;
    const amp = (f: number) => {
      let s = taps[m]!;
      for (let n = 1; n <= m; n++) s += 2 * taps[m + n]! * Math.cos(2 * Math.PI * f * n);
      return s;
    };
    let near = 0;
    let far = 0;
    for (let f = spec.stopEdge; f <= 0.5; f += 1e-5) {
      if (f < spec.farEdge) near = Math.max(near, Math.abs(amp(f)));
      else far = Math.max(far, Math.abs(amp(f)));
    }
    expect((near * spec.stopWeight) / delta).toBeGreaterThan(0.999);
    expect((near * spec.stopWeight) / delta).toBeLessThan(1.02);
    expect((far * spec.stopWeight * spec.farWeight) / delta).toBeGreaterThan(0.98);
    expect((far * spec.stopWeight * spec.farWeight) / delta).toBeLessThan(1.02);
    // The unweighted design of the same length has a smaller delta: the far band costs.
    expect(remezLowpass(30, { ...spec, farWeight: 1 }).delta).toBeLessThan(delta);
    const bad = () => remezLowpass(30, { ...spec, farEdge: 0.1 });
    expect(bad).toThrow(/stopEdge <= farEdge <= 0.5 with farWeight >= 1/);
  });

  it.each([
    [48000, 16000, 14],
    [44100, 16000, 17],
    [96000, 16000, 7],
  ])(
    '%i -> %i: the half-band stage is equiripple, shorter than Kaiser, 140 dB down in float32',
    (from, to, half) => {
      const passEdge = to / 2 / from;
      const filter = designHalfband(passEdge, 140);
      expect(filter.half).toBe(half);
      expect(filter.half).toBeLessThan(kaiserHalfband(passEdge, 140).half);
      // As the kernels compute it (centre in float32), on a grid of 64 points per lobe.
      const gain = (f: number) => {
        let h = Math.fround(filter.centre);
        for (let j = 0; j < half; j++)
          h += 2 * filter.taps[half + j]! * Math.cos(2 * Math.PI * f * (2 * j + 1));
        return h;
      };
      let stop = 0;
      let pass = 0;
      const step = 1 / (256 * 4 * half);
      for (let f = 0; f <= 0.5; f += step) {
        if (f >= 0.5 - passEdge) stop = Math.max(stop, Math.abs(gain(f)));
        if (f <= passEdge) pass = Math.max(pass, Math.abs(gain(f) - 1));
      }
      expect(20 * Math.log10(stop)).toBeLessThanOrEqual(-140);
      // A half-band's ripple is the same in both bands.
      expect(pass).toBeLessThan(2e-7);
      expect(filter.taps.slice(0, half).reverse()).toEqual(filter.taps.slice(half));
    },
  );
});
