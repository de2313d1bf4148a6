/**
 * Design of the resampler's filters: the polyphase stage and the half-band stages
 * before it (planResample). The stopband starts at the lower of the two Nyquist
 * frequencies, so nothing above the output's Nyquist aliases; the quality sets the
 * transition band (so the passband edge: about 80.6% of the lower Nyquist at 'high')
 * and the stopband attenuation.
 *
 * Two designs meet those edges. The Kaiser-windowed sinc, whose passband ripple is
 * as small as its stopband's (1e-7 at 140 dB) and whose stopband falls away from the
 * edge; and at the 140 dB qualities, where the rows are symmetric (up <= 2) and for
 * the half-band stages, an equiripple (Remez exchange, resample-remez.ts) design:
 * the same edges, a stopband at 140 dB over its whole width (deeper, to
 * EQUIRIPPLE_IMAGE_ATTENUATION_DB, where the passband's images fall at up 2) and a
 * passband ripple of EQUIRIPPLE_PASS_RIPPLE, for about 20% fewer taps. Each is checked as the float32
 * table it ships as; an exchange that fails leaves the Kaiser design.
 */
import { RemoteMediaError } from '../../errors.ts';
import { MAX_REMEZ_TAPS, remezLowpass, shortestLowpass } from './resample-remez.ts';

/**
 * The stopband attenuation bounds what is left of the images when upsampling (and
 * of the aliases when downsampling): 'high' at 100 dB left 16 -> 48 kHz at 107 dB
 * SNR, so it is 140 dB, with the length that keeps its passband edge near 80% of
 * the lower Nyquist (Kaiser: length grows with attenuation at a fixed transition;
 * zeroCrossings sets the transition, which the equiripple designs share). Beyond
 * about 145 dB the float32 output itself is the floor.
 */
export const RESAMPLE_QUALITIES = {
  low: { zeroCrossings: 8, attenuationDb: 60 },
  medium: { zeroCrossings: 16, attenuationDb: 80 },
  high: { zeroCrossings: 48, attenuationDb: 140 },
  // Same floor, a longer filter for a narrower transition: passband to ~85%.
  best: { zeroCrossings: 64, attenuationDb: 140 },
} as const;
export type ResampleQuality = keyof typeof RESAMPLE_QUALITIES;
export const DEFAULT_RESAMPLE_QUALITY: ResampleQuality = 'high';

export interface PolyphaseFilter {
  /** Output rate / input rate = up / down, in lowest terms. */
  up: number;
  down: number;
  /** Taps per phase; the filter spans taps input samples. */
  taps: number;
  /** up rows of taps coefficients: row p holds the phase p / up. */
  table: Float32Array;
  /** Highest frequency passed with full accuracy, as a fraction of the output rate. */
  passbandEdge: number;
  /** 'equiripple' (Remez) or 'kaiser' (windowed sinc): see designPolyphaseFilter. */
  design: 'equiripple' | 'kaiser';
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Modified Bessel function of the first kind, order 0 (power series). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; term > sum * 1e-17; k++) {
    term *= q / (k * k);
    sum += term;
  }
  return sum;
}

/**
 * The polyphase stage's design. Where every row comes out symmetric (up <= 2, so the
 * folded kernel adds the two samples a tap pair meets before one multiply) and the
 * stopband is deep (the 140 dB qualities), an equiripple (Remez) prototype with the
 * same band edges and stopband but a passband ripple of EQUIRIPPLE_PASS_RIPPLE: a
 * Kaiser window keeps its passband as flat as its stopband deep (1e-7), which costs
 * taps and buys nothing audible (24 -> 16 kHz: 213 taps instead of 288). Else, or
 * when the exchange fails, the Kaiser-windowed sinc. Designs are kept per (up, down,
 * quality): the Remez design takes a few milliseconds, once.
 */
export function designPolyphaseFilter(
  fromRate: number,
  toRate: number,
  quality: ResampleQuality = DEFAULT_RESAMPLE_QUALITY,
  options: { maxRemezIterations?: number } = {},
): PolyphaseFilter {
  const divisor = gcd(fromRate, toRate);
  const up = toRate / divisor;
  const down = fromRate / divisor;
  const key = `${up}/${down}/${quality}/${options.maxRemezIterations ?? ''}`;
  let design = designs.get(key);
  if (!design) {
    design = designFilter(up, down, quality, options.maxRemezIterations);
    designs.set(key, design);
  }
  // A copy of the table: a caller may keep and change its own.
  return { ...design, table: design.table.slice() };
}

const designs = new Map<string, PolyphaseFilter>();

/**
 * The equiripple designs' peak passband error, before each row is scaled to unit DC
 * gain (which moves the whole passband by up to that much): the shipped table's gain
 * stays within 1 +- 6e-5 over the passband (checked; in practice 1 - 6e-5 .. 1 or
 * 1 .. 1 + 6e-5, 0.0005 dB peak to peak, as flat as speex quality 3's ripple
 * and without its droop: -0.037 dB at 6.45 kHz at 48 -> 16 kHz).
 */
export const EQUIRIPPLE_PASS_RIPPLE = 3e-5;
/**
 * Designed this much past the stopband: the float32 rounding of the taps adds its own
 * noise, a few 1e-8 at peaks, to an equiripple stopband that is at its bound everywhere.
 */
export const EQUIRIPPLE_STOP_MARGIN_DB = 2;
/**
 * At up 2 the images of the passband, [0.5 - passEdge, 0.5] in the prototype's domain
 * (24 -> 16 kHz: 17.55..24 kHz of the 48 kHz prototype), fold back in band at the
 * stopband's level, where Kaiser's stopband has fallen well below its edge's. That
 * band is weighted (designed EQUIRIPPLE_IMAGE_DESIGN_DB deep) and the float32 table
 * checked to this: far from the transition it costs no taps at 48 -> 16 and
 * 22.05 -> 44.1 kHz. Computed in double, the in-band SNR of 24 -> 16 rose from
 * 145.4 to 148.0 dB (22.05 -> 44.1: 142.1 to 149.1), at float32's own floor. Not
 * deeper: the float32 rounding of the taps (a few 1e-8) puts the table near -150 dB
 * whatever the design, and a check at 148 dB failed lengths by rounding luck (2
 * taps a row more, the design 4 times as slow) for 0.8 dB more through the kernels,
 * whose float32 accumulation (about 141 dB) is what limits the SNR now.
 */
export const EQUIRIPPLE_IMAGE_ATTENUATION_DB = 146;
const EQUIRIPPLE_IMAGE_DESIGN_DB = 157;
/** The table's check on its grid asks this much more (its grid can miss a peak by a little). */
const CHECK_MARGIN_DB = 0.2;
/** Equiripple only at these stopbands (the 140 dB qualities), where it saves most. */
export const EQUIRIPPLE_MIN_ATTENUATION_DB = 120;

/** The transition band of quality's filter, a fraction of the lower Nyquist (Kaiser's formula). */
function transitionOf(quality: ResampleQuality): number {
  const { zeroCrossings, attenuationDb } = RESAMPLE_QUALITIES[quality];
  return (attenuationDb - 8) / (2.285 * (2 * zeroCrossings - 1) * Math.PI);
}

function designFilter(
  up: number,
  down: number,
  quality: ResampleQuality,
  maxRemezIterations?: number,
): PolyphaseFilter {
  const { attenuationDb } = RESAMPLE_QUALITIES[quality];
  const lowerRatio = Math.min(1, up / down); // lower Nyquist / input Nyquist
  const passbandEdge = (lowerRatio * (1 - transitionOf(quality))) / 2 / (up / down);
  if (up <= 2 && attenuationDb >= EQUIRIPPLE_MIN_ATTENUATION_DB) {
    try {
      // The prototype runs at up times the input rate: there, the lower Nyquist is
      // lowerRatio / (2 up) cycles per sample.
      const stopRipple = 10 ** (-attenuationDb / 20);
      const stopEdge = lowerRatio / (2 * up);
      const passEdge = (lowerRatio * (1 - transitionOf(quality))) / (2 * up);
      const imageEdge = up === 2 ? 0.5 - passEdge : undefined;
      const { taps } = shortestLowpass(
        {
          passEdge,
          stopEdge,
          passRipple: EQUIRIPPLE_PASS_RIPPLE,
          stopRipple: stopRipple * 10 ** (-EQUIRIPPLE_STOP_MARGIN_DB / 20),
          zeroAtHalf: up === 2,
          ...(imageEdge === undefined
            ? {}
            : { farEdge: imageEdge, farRipple: 10 ** (-EQUIRIPPLE_IMAGE_DESIGN_DB / 20) }),
          // At up 2 an odd m gives both rows their full length (see equirippleTable).
          mStep: up,
          mRem: up - 1,
          ...(maxRemezIterations === undefined ? {} : { maxIterations: maxRemezIterations }),
        },
        // What ships is the float32 table, each row at unit DC gain: it is checked,
        // rounding included (the exchange's grid can miss a peak by a little).
        (design) => {
          const table = equirippleTable(design.taps, up);
          const gains = tableGains(table, up, passEdge, stopEdge);
          return (
            gains.stop <= stopRipple * 10 ** (-CHECK_MARGIN_DB / 20) &&
            gains.pass <= 2 * EQUIRIPPLE_PASS_RIPPLE &&
            (imageEdge === undefined ||
              tableGains(table, up, passEdge, imageEdge).stop <=
                10 ** (-(EQUIRIPPLE_IMAGE_ATTENUATION_DB + CHECK_MARGIN_DB) / 20))
          );
        },
      );
      return { ...equirippleTable(taps, up), up, down, passbandEdge, design: 'equiripple' };
    } catch (error) {
      // A design that did not converge is not shipped: the Kaiser one is.
      if (!(error instanceof RemoteMediaError && error.kind === 'node_failed')) throw error;
    }
  }
  return { ...kaiserTable(up, down, quality), up, down, passbandEdge, design: 'kaiser' };
}

/**
 * The prototype's taps h[-M..M] (at up times the input rate) as up rows: row p tap k
 * holds h[p + up (half - 1 - k)], half = floor(M / up) + 1, as the Kaiser rows sample
 * their window, so the output stays aligned. Each row is symmetric within its length
 * (trailing zeros aside) when up <= 2: row 0 about tap half - 1, row 1 of up 2 about
 * half - 1/2.
 */
function equirippleTable(h: Float64Array, up: number): { taps: number; table: Float32Array } {
  const M = (h.length - 1) / 2;
  const half = Math.floor(M / up) + 1;
  const taps = 2 * half;
  const table = new Float32Array(up * taps);
  const row = new Float64Array(taps);
  for (let phase = 0; phase < up; phase++) {
    let sum = 0;
    for (let k = 0; k < taps; k++) {
      const m = phase + up * (half - 1 - k);
      row[k] = Math.abs(m) <= M ? h[M + m]! : 0;
      sum += row[k]!;
    }
    // Unit gain at DC for every phase, so a constant stays exactly constant.
    for (let k = 0; k < taps; k++) table[phase * taps + k] = row[k]! / sum;
  }
  return { taps, table };
}

/**
 * The table's peak gain over [stopEdge, 0.5] and its peak error |gain - 1| over
 * [0, passEdge] (cycles per sample at up times the input rate), its rows interleaved
 * back into the prototype: 8 points per extremal spacing (a peak between two is at
 * most 1.9%, 0.17 dB, above them: within CHECK_MARGIN_DB), each by Clenshaw's
 * recurrence over the symmetric taps (no cosine per tap).
 */
export function tableGains(
  filter: { taps: number; table: Float32Array },
  up: number,
  passEdge: number,
  stopEdge: number,
): { stop: number; pass: number } {
  const { taps, table } = filter;
  const half = taps / 2;
  // c[n] = h[n] + h[-n] for n > 0, c[0] = h[0]: H(f) = sum c[n] cos(2 pi f n).
  const M = up * half;
  const c = new Float64Array(M + 1);
  for (let p = 0; p < up; p++) {
    for (let k = 0; k < taps; k++) {
      const m = p + up * (half - 1 - k);
      c[Math.abs(m)]! += table[p * taps + k]! / up;
    }
  }
  const peak = (lo: number, hi: number, target: number) => {
    const points = Math.ceil((hi - lo) * 16 * M);
    let worst = 0;
    for (let i = 0; i <= points; i++) {
      const x = Math.cos(2 * Math.PI * (lo + ((hi - lo) * i) / points));
      // Clenshaw: sum c[n] T_n(x).
      let b1 = 0;
      let b2 = 0;
      for (let n = M; n >= 1; n--) {
        const b = 2 * x * b1 - b2 + c[n]!;
        b2 = b1;
        b1 = b;
      }
      worst = Math.max(worst, Math.abs(x * b1 - b2 + c[0]! - target));
    }
    return worst;
  };
  return { stop: peak(stopEdge, 0.5, 0), pass: peak(0, passEdge, 1) };
}

function kaiserTable(
  up: number,
  down: number,
  quality: ResampleQuality,
): { taps: number; table: Float32Array } {
  const { zeroCrossings, attenuationDb } = RESAMPLE_QUALITIES[quality];
  // Kaiser's formulas, in the lower-rate domain where the filter is 2 * zeroCrossings long.
  const transition = transitionOf(quality);
  const beta =
    attenuationDb > 50
      ? 0.1102 * (attenuationDb - 8.7)
      : 0.5842 * (attenuationDb - 21) ** 0.4 + 0.07886 * (attenuationDb - 21);
  const lowerRatio = Math.min(1, up / down); // lower Nyquist / input Nyquist
  const cutoff = lowerRatio * (1 - transition / 2); // fraction of the input Nyquist
  const halfLength = Math.ceil(zeroCrossings / lowerRatio); // in input samples
  const taps = 2 * halfLength;
  const i0Beta = besselI0(beta);

  const table = new Float32Array(up * taps);
  const row = new Float64Array(taps);
  for (let phase = 0; phase < up; phase++) {
    let sum = 0;
    for (let k = 0; k < taps; k++) {
      // Distance in input samples between the output instant and input sample k.
      const t = phase / up + halfLength - 1 - k;
      const u = t / halfLength;
      const window = Math.abs(u) >= 1 ? 0 : besselI0(beta * Math.sqrt(1 - u * u)) / i0Beta;
      const x = cutoff * t;
      const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
      row[k] = cutoff * sinc * window;
      sum += row[k]!;
    }
    // Unit gain at DC for every phase, so a constant stays exactly constant.
    for (let k = 0; k < taps; k++) table[phase * taps + k] = row[k]! / sum;
  }
  return { taps, table };
}

/**
 * A half-band low-pass for decimation by 2 (equiripple, or Kaiser-windowed). Its
 * cutoff sits at a quarter of the input rate, so every tap at an even offset from the centre is
 * zero but the centre itself: the filter costs half its length.
 */
export interface HalfbandFilter {
  /** The window spans 4 * half - 1 input samples around its centre. */
  half: number;
  /** The 2 * half taps at the odd offsets -(2 half - 1), ..., -1, 1, ..., 2 half - 1. */
  taps: Float32Array;
  /** The centre tap (about 0.5). */
  centre: number;
}

/**
 * The shortest half-band filter that passes [0, passEdge) flat and stops
 * [rate / 2 - passEdge, rate / 2] by attenuationDb, with passEdge as a fraction of
 * the input rate (below 0.25): decimated by 2, what it leaves above the new Nyquist
 * folds back above passEdge only.
 *
 * Equiripple where the exchange converges: with both bands mirrored about a quarter
 * of the rate and equal weights, the Remez solution of length 4 half - 1 is itself
 * half-band (every even offset's tap zero but the centre's 0.5, to rounding; set
 * exactly), and its ripple is the same in both bands. From Kaiser's length estimate,
 * longer until the float32 taps reach the stopband: 48 -> 24 kHz 14 taps a side
 * (-145.4 dB) where the Kaiser window needed 16; 44.1 -> 22.05 kHz 17 for 20. Else
 * the Kaiser-windowed design. Kept per (passEdge, attenuation).
 */
export function designHalfband(passEdge: number, attenuationDb: number): HalfbandFilter {
  const key = `${passEdge}/${attenuationDb}`;
  let filter = halfbands.get(key);
  if (!filter) {
    filter = equirippleHalfband(passEdge, attenuationDb) ?? kaiserHalfband(passEdge, attenuationDb);
    halfbands.set(key, filter);
  }
  return { ...filter, taps: filter.taps.slice() };
}

const halfbands = new Map<string, HalfbandFilter>();

/** The half-band's float32 side taps and centre (0.5 and both sides: unit DC gain). */
function halfbandTaps(side: Float64Array): HalfbandFilter {
  const half = side.length;
  const sum = 0.5 + 2 * side.reduce((a, b) => a + b, 0);
  const taps = new Float32Array(2 * half);
  for (let i = 0; i < half; i++) {
    taps[half - 1 - i] = side[i]! / sum;
    taps[half + i] = side[i]! / sum;
  }
  return { half, taps, centre: 0.5 / sum };
}

/** The peak gain of a half-band filter over [from, 0.5], as the kernels compute it (float32 centre). */
export function halfbandStopGain(filter: HalfbandFilter, from: number): number {
  const { half, taps } = filter;
  const centre = Math.fround(filter.centre);
  const points = Math.ceil((0.5 - from) * 64 * 4 * half);
  let peak = 0;
  for (let i = 0; i <= points; i++) {
    const f = from + ((0.5 - from) * i) / points;
    let h = centre;
    for (let j = 0; j < half; j++)
      h += 2 * taps[half + j]! * Math.cos(2 * Math.PI * f * (2 * j + 1));
    peak = Math.max(peak, Math.abs(h));
  }
  return peak;
}

function equirippleHalfband(passEdge: number, attenuationDb: number): HalfbandFilter | undefined {
  if (attenuationDb < EQUIRIPPLE_MIN_ATTENUATION_DB) return undefined;
  const transition = 0.5 - 2 * passEdge;
  const bound = 10 ** (-(attenuationDb + CHECK_MARGIN_DB) / 20);
  // Kaiser: N - 1 = (A - 8) / (2.285 * 2 pi * transition), and N - 1 = 4 half.
  let half = Math.max(2, Math.ceil((attenuationDb - 8) / (2.285 * 2 * Math.PI * transition) / 4));
  try {
    for (; 4 * half - 1 <= MAX_REMEZ_TAPS; half++) {
      const m = 2 * half - 1;
      const { taps } = remezLowpass(m, { passEdge, stopEdge: 0.5 - passEdge, stopWeight: 1 });
      const side = new Float64Array(half); // offsets 1, 3, ..., 2 half - 1
      for (let i = 0; i < half; i++) side[i] = taps[m + 2 * i + 1]!;
      const filter = halfbandTaps(side);
      if (halfbandStopGain(filter, 0.5 - passEdge) <= bound) return filter;
    }
  } catch (error) {
    // A design that did not converge is not shipped: the Kaiser one is.
    if (!(error instanceof RemoteMediaError && error.kind === 'node_failed')) throw error;
  }
  return undefined;
}

/** The Kaiser-windowed half-band (Kaiser's length estimate, rounded up to 8 taps). */
export function kaiserHalfband(passEdge: number, attenuationDb: number): HalfbandFilter {
  const transition = 0.5 - 2 * passEdge; // fraction of the input rate
  const beta = 0.1102 * (attenuationDb - 8.7);
  // Kaiser: N - 1 = (A - 8) / (2.285 * 2 pi * transition); the window's ends are at
  // +-2 half (even offsets, whose taps are zero), so N - 1 = 4 half. Rounded up to a
  // multiple of 4 (2 half taps, a multiple of 8); the longer window only widens the margin.
  const half = 4 * Math.ceil((attenuationDb - 8) / (2.285 * 2 * Math.PI * transition) / 16);
  const i0Beta = besselI0(beta);
  const side = new Float64Array(half); // taps at offsets 1, 3, ..., 2 half - 1
  for (let i = 0; i < half; i++) {
    const n = 2 * i + 1;
    const u = n / (2 * half);
    const window = besselI0(beta * Math.sqrt(1 - u * u)) / i0Beta;
    side[i] = (Math.sin((Math.PI * n) / 2) / (Math.PI * n)) * window;
  }
  return halfbandTaps(side);
}

/**
 * How a conversion is computed: zero or more half-band decimations by 2, then one
 * polyphase filter. At the 140 dB qualities a large downsampling ratio (from >= 2.5
 * to) first halves the rate with a half-band stage, as long as the rate stays even:
 * the sharp filter then runs on half the input, so it needs half the taps per
 * output (48 -> 16 kHz: 144 taps at 24 kHz plus 32 half-band taps per 24 kHz sample,
 * instead of 288), at the same stopband.
 *
 * Not at the shorter qualities: there halving saves few taps against a second
 * stage's cost, and the last stage may turn rational (48 -> 16 is a plain 3:1
 * decimation, 24 -> 16 is 2:3), whose images of in-band content fold back in band at
 * the stopband level: far under float32's floor at 140 dB, plainly audible in the
 * measurements at 60 and 80 dB (48 -> 16 'low': 86 dB in-band SNR instead of 146).
 */
export const HALFBAND_MIN_ATTENUATION_DB = 120;

export interface ResamplePlan {
  fromRate: number;
  toRate: number;
  halfbands: HalfbandFilter[];
  /** The last stage, from fromRate / 2^halfbands.length to toRate. */
  filter: PolyphaseFilter;
  /** Highest frequency passed with full accuracy, as a fraction of the output rate. */
  passbandEdge: number;
}

/** The conversions planned so far in this process (their designs are cached). */
const planned = new Set<string>();

/** Whether planResample has run for these rates and quality (its designs are then cached). */
export function isPlanned(fromRate: number, toRate: number, quality: ResampleQuality): boolean {
  return planned.has(`${fromRate}/${toRate}/${quality}`);
}

export function planResample(
  fromRate: number,
  toRate: number,
  quality: ResampleQuality = DEFAULT_RESAMPLE_QUALITY,
): ResamplePlan {
  planned.add(`${fromRate}/${toRate}/${quality}`);
  const { attenuationDb } = RESAMPLE_QUALITIES[quality];
  const halfbands: HalfbandFilter[] = [];
  let rate = fromRate;
  while (attenuationDb >= HALFBAND_MIN_ATTENUATION_DB && rate >= 2.5 * toRate && rate % 2 === 0) {
    // Flat to the output's Nyquist: the last stage shapes the band edge alone.
    halfbands.push(designHalfband(toRate / 2 / rate, attenuationDb));
    rate /= 2;
  }
  const filter = designPolyphaseFilter(rate, toRate, quality);
  return { fromRate, toRate, halfbands, filter, passbandEdge: filter.passbandEdge };
}
