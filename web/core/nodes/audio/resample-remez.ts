/**
 * Parks-McClellan (Remez exchange) design of odd-length linear-phase low-pass
 * filters, for the resampler's polyphase stage (resample-filter.ts). A Kaiser
 * window makes the passband ripple as small as the stopband's (1e-7 at 140 dB),
 * far flatter than any use needs; an equiripple design with a looser passband
 * (1e-5) reaches the same stopband at the same band edges with fewer taps.
 *
 * Double precision; the weighted error is evaluated on a dense grid (GRID_DENSITY
 * points per extremal) by barycentric Lagrange interpolation in x = cos(w), as in
 * McClellan's program. Twin: python-packages/remotemedia/nodes/audio/resample_remez.py
 * (same arithmetic in the same order, so both pick the same length and taps).
 */
import { RemoteMediaError } from '../../errors.ts';

/** Grid points per extremal (McClellan's default is 16; the edges get more, see bandGrid). */
export const GRID_DENSITY = 8;
/** Lobes next to the transition band gridded EDGE_REFINE times as densely. */
export const EDGE_LOBES = 2;
export const EDGE_REFINE = 16;
/**
 * The longest design attempted (taps): longer ones lose the exchange's alternation
 * in double precision (587 taps did, 523 did not), so the caller's fallback is used
 * without first spending 100 ms on an exchange that fails.
 */
export const MAX_REMEZ_TAPS = 541;
/** Exchanges allowed before the design counts as not converging. */
export const REMEZ_MAX_ITERATIONS = 40;
/** Converged when the extremal errors agree to this fraction of their largest. */
const CONVERGED = 1e-6;

export interface LowpassSpec {
  /** Passband [0, passEdge] and stopband [stopEdge, 0.5], in cycles per sample. */
  passEdge: number;
  stopEdge: number;
  /** Stopband weight relative to the passband's (passband ripple / stopband ripple). */
  stopWeight: number;
  /**
   * A zero at half the sample rate (H(0.5) = 0). The polyphase stage at up 2 scales
   * its two rows to unit DC gain each; their sums differ by H(0.5), which an
   * equiripple design puts at the full stopband ripple, and the mismatch would add
   * an image of the passband at that level (24 -> 16 kHz: -134.7 dB, not -140).
   */
  zeroAtHalf?: boolean;
  /**
   * From farEdge to 0.5 the stopband weight is stopWeight * farWeight: at up 2 the
   * images of the passband sit at [0.5 - passEdge, 0.5] and fold back in band, so a
   * stopband deeper there (far from the transition, where it costs few taps) keeps
   * them under the float32 floor; the rest of the stopband only carries aliases of
   * out-of-band content.
   */
  farEdge?: number;
  farWeight?: number;
}

export interface RemezResult {
  /** The 2 m + 1 taps, symmetric about tap m, passband gain about 1. */
  taps: Float64Array;
  /** The passband's peak error on the grid (the stopband's is delta / stopWeight). */
  delta: number;
  iterations: number;
  /** The last reference's frequencies: a start for a design one length on. */
  extremals: number[];
}

/**
 * The grid on [lo, hi]: GRID_DENSITY points per extremal spacing (0.5 / r), and
 * EDGE_REFINE times as many over the EDGE_LOBES lobes next to the transition band
 * (at lo when fineAtLo, else at hi), where the error's lobes are narrowest: on a
 * plain grid of 16 the first stopband lobe peaked 15% (1.2 dB) above its grid points,
 * and a coarse one there left the float32 table 2 dB short.
 * Both edges are included.
 */
function bandGrid(lo: number, hi: number, r: number, fineAtLo: boolean): number[] {
  const step = 0.5 / (GRID_DENSITY * r);
  const fineWidth = Math.min(hi - lo, (EDGE_LOBES * 0.5) / r);
  const coarse = Math.max(1, Math.ceil((hi - lo - fineWidth) / step));
  const fine = Math.max(1, Math.ceil((fineWidth * EDGE_REFINE) / step));
  const out: number[] = [];
  // Offsets from the transition edge: fine ones first, then coarse ones.
  for (let i = 0; i <= fine; i++) out.push((fineWidth * i) / fine);
  for (let i = 1; i <= coarse; i++) out.push(fineWidth + ((hi - lo - fineWidth) * i) / coarse);
  return fineAtLo ? out.map((d) => lo + d) : out.map((d) => hi - d).reverse();
}

/**
 * 1 / prod over j != k of (x_k - x_j), for k < n, all scaled by one factor (which
 * changes neither delta nor the interpolant): the products of a few hundred factors
 * leave double's range (1e-155 to 1e197 at 587 taps), so each is kept as a mantissa
 * and a count of 1e100s, and the weights are taken relative to the largest.
 */
function baryWeights(x: Float64Array, n: number): Float64Array {
  const mant = new Float64Array(n);
  const exps = new Int32Array(n);
  let least = Infinity;
  for (let k = 0; k < n; k++) {
    let d = 1;
    let e = 0;
    for (let j = 0; j < n; j++) {
      if (j === k) continue;
      d *= 2 * (x[k]! - x[j]!);
      if (Math.abs(d) > 1e100) {
        d *= 1e-100;
        e++;
      } else if (Math.abs(d) < 1e-100) {
        d *= 1e100;
        e--;
      }
    }
    mant[k] = d;
    exps[k] = e;
    least = Math.min(least, e);
  }
  const w = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let v = 1 / mant[k]!;
    for (let e = least; e < exps[k]! && v !== 0; e++) v *= 1e-100;
    w[k] = v;
  }
  return w;
}

/** The index of the grid point nearest f (the grid's frequencies ascend), from `from` on. */
function nearest(grid: Float64Array, f: number, from: number): number {
  let i = from;
  while (i < grid.length - 1 && Math.abs(grid[i + 1]! - f) <= Math.abs(grid[i]! - f)) i++;
  return i;
}

/**
 * The equiripple odd-length low-pass of 2 m + 1 taps for spec, from the reference
 * `start` (frequencies, as a previous result's extremals) or an even spread. Throws a
 * RemoteMediaError ('node_failed') when the exchange does not converge within
 * maxIterations or loses its alternation: the caller falls back to another design
 * rather than ship a filter that misses its bounds.
 */
export function remezLowpass(
  m: number,
  spec: LowpassSpec,
  maxIterations = REMEZ_MAX_ITERATIONS,
  start?: number[],
): RemezResult {
  const { passEdge, stopEdge, stopWeight } = spec;
  const zero = spec.zeroAtHalf === true;
  const farEdge = spec.farEdge ?? 0.5;
  const farWeight = spec.farWeight ?? 1;
  if (
    !(m >= 3 && Number.isInteger(m)) ||
    !(0 < passEdge && passEdge < stopEdge && stopEdge < 0.5) ||
    !(stopWeight > 0) ||
    !(stopEdge <= farEdge && farEdge <= 0.5 && farWeight >= 1)
  ) {
    throw new RemoteMediaError(
      'usage',
      `remezLowpass: needs an integer m >= 3, 0 < passEdge < stopEdge < 0.5, stopWeight > 0 ` +
        `and stopEdge <= farEdge <= 0.5 with farWeight >= 1, found m ${m}, bands ${passEdge}, ` +
        `${stopEdge}, stop weight ${stopWeight}, far band from ${farEdge} weighted ${farWeight}`,
    );
  }
  // A(x) = sum a_k T_k(x), x = cos(2 pi f): r terms, r + 1 extremals. With the zero,
  // A(x) = (1 + x) B(x), and B (one term fewer) is fitted to D / (1 + x) with weight
  // W (1 + x): the same weighted error; f = 0.5 (x = -1) leaves the grid.
  const r = zero ? m : m + 1;
  const stopGrid = bandGrid(stopEdge, 0.5, r, true);
  if (farEdge > stopEdge && farEdge < 0.5 && !stopGrid.includes(farEdge)) {
    // The weight steps up at farEdge, so the far band's weighted error peaks there:
    // on the grid, or a design looks 20% deeper there than it is.
    stopGrid.splice(
      stopGrid.findIndex((f) => f > farEdge),
      0,
      farEdge,
    );
  }
  if (zero) stopGrid.pop();
  const freqs = Float64Array.from([...bandGrid(0, passEdge, r, false), ...stopGrid]);
  const n = freqs.length;
  const gx = new Float64Array(n);
  const gd = new Float64Array(n); // desired
  const gw = new Float64Array(n); // weight
  for (let i = 0; i < n; i++) {
    const x = Math.cos(2 * Math.PI * freqs[i]!);
    const inPass = freqs[i]! <= passEdge;
    const factor = zero ? 1 + x : 1;
    gx[i] = x;
    gd[i] = inPass ? 1 / factor : 0;
    const far = freqs[i]! >= farEdge ? farWeight : 1;
    gw[i] = (inPass ? 1 : stopWeight * far) * factor;
  }
  // First reference: start's frequencies, or r + 1 spread evenly over both bands (not
  // over the grid's points, which crowd at the edges); each on its nearest grid point.
  const width = passEdge + (0.5 - stopEdge);
  const wanted =
    start && start.length === r + 1
      ? start
      : Array.from({ length: r + 1 }, (_, k) => {
          const d = (width * k) / r;
          return d <= passEdge ? d : stopEdge + (d - passEdge);
        });
  let ext: number[] = [];
  for (const f of wanted) {
    const i = nearest(freqs, f, ext.length ? ext[ext.length - 1]! + 1 : 0);
    ext.push(Math.max(i, ext.length ? ext[ext.length - 1]! + 1 : 0));
  }
  if (ext[ext.length - 1]! >= n) fail('found too few grid points');
  const x = new Float64Array(r + 1);
  const y = new Float64Array(r);
  const err = new Float64Array(n);
  function fail(why: string): never {
    throw new RemoteMediaError(
      'node_failed',
      `remezLowpass: the exchange ${why} (${2 * m + 1} taps, bands ${passEdge}, ${stopEdge}, ` +
        `stop weight ${stopWeight})`,
    );
  }
  for (let iteration = 1; ; iteration++) {
    for (let k = 0; k <= r; k++) x[k] = gx[ext[k]!]!;
    const ad = baryWeights(x, r + 1);
    let num = 0;
    let den = 0;
    for (let k = 0; k <= r; k++) {
      num += ad[k]! * gd[ext[k]!]!;
      den += ((k % 2 === 0 ? 1 : -1) * ad[k]!) / gw[ext[k]!]!;
    }
    const delta = num / den;
    for (let k = 0; k < r; k++) {
      y[k] = gd[ext[k]!]! - ((k % 2 === 0 ? 1 : -1) * delta) / gw[ext[k]!]!;
    }
    const bw = baryWeights(x, r);
    for (let i = 0; i < n; i++) err[i] = gw[i]! * (gd[i]! - interpolate(gx[i]!, x, bw, y, r));
    // Candidate extremals: the peak of each run of one sign of the error, so they
    // alternate; the reference's points each head a run (their errors are +-delta
    // in turn), so there are at least r + 1.
    const alt: number[] = [];
    for (let i = 0; i < n; i++) {
      const j = alt[alt.length - 1];
      if (j !== undefined && err[j]! > 0 === err[i]! > 0) {
        if (Math.abs(err[i]!) > Math.abs(err[j]!)) alt[alt.length - 1] = i;
      } else alt.push(i);
    }
    while (alt.length > r + 1) {
      // One too many: drop the smaller end; more: drop the smallest and re-merge.
      if (alt.length === r + 2) {
        if (Math.abs(err[alt[0]!]!) < Math.abs(err[alt[alt.length - 1]!]!)) alt.shift();
        else alt.pop();
        continue;
      }
      let at = 0;
      for (let k = 1; k < alt.length; k++) {
        if (Math.abs(err[alt[k]!]!) < Math.abs(err[alt[at]!]!)) at = k;
      }
      if (at === 0 || at === alt.length - 1) {
        alt.splice(at, 1);
        continue;
      }
      // Its neighbours now share a sign: keep the larger.
      const keep = Math.abs(err[alt[at - 1]!]!) >= Math.abs(err[alt[at + 1]!]!) ? at - 1 : at + 1;
      alt.splice(at - 1, 3, alt[keep]!);
    }
    if (alt.length < r + 1) fail('lost its alternation');
    let lo = Infinity;
    let hi = 0;
    for (const i of alt) {
      const a = Math.abs(err[i]!);
      lo = Math.min(lo, a);
      hi = Math.max(hi, a);
    }
    if (!Number.isFinite(hi) || !Number.isFinite(delta)) fail('overflowed');
    // Converged: the new extremals' errors are all about delta, or the exchange
    // keeps this reference (its last point's error, interpolated, can differ from
    // delta by rounding), so this reference's interpolant is the equiripple answer.
    if ((hi - lo) / hi < CONVERGED || alt.every((i, k) => i === ext[k])) {
      const taps = impulseResponse(m, (t) => (zero ? 1 + t : 1) * interpolate(t, x, bw, y, r));
      const extremals = ext.map((i) => freqs[i]!);
      return { taps, delta: Math.abs(delta), iterations: iteration, extremals };
    }
    ext = alt;
    if (iteration >= maxIterations) fail(`did not converge in ${maxIterations} iterations`);
  }
}

/** The interpolant through (x_k, y_k), k < r, at t (barycentric form). */
function interpolate(
  t: number,
  x: Float64Array,
  bw: Float64Array,
  y: Float64Array,
  r: number,
): number {
  let num = 0;
  let den = 0;
  for (let k = 0; k < r; k++) {
    const d = t - x[k]!;
    if (d === 0) return y[k]!;
    const c = bw[k]! / d;
    num += c * y[k]!;
    den += c;
  }
  return num / den;
}

/** The taps of A(w) = sum a_n cos(n w): A sampled at w = 2 pi k / N, then the inverse DFT. */
function impulseResponse(m: number, amplitude: (x: number) => number): Float64Array {
  const N = 2 * m + 1;
  const a = new Float64Array(m + 1);
  for (let k = 0; k <= m; k++) a[k] = amplitude(Math.cos((2 * Math.PI * k) / N));
  const taps = new Float64Array(N);
  for (let j = 0; j <= m; j++) {
    let s = a[0]!;
    for (let k = 1; k <= m; k++) s += 2 * a[k]! * Math.cos((2 * Math.PI * ((j * k) % N)) / N);
    taps[m + j] = s / N;
    taps[m - j] = s / N;
  }
  return taps;
}

export interface LengthSearch {
  passEdge: number;
  stopEdge: number;
  /** Peak passband error allowed (the design's, before any gain normalisation). */
  passRipple: number;
  /** Peak stopband gain allowed. */
  stopRipple: number;
  /** Peak gain allowed over [farEdge, 0.5] (below stopRipple; see LowpassSpec.farEdge). */
  farEdge?: number;
  farRipple?: number;
  /** Only lengths 2 m + 1 with m % mStep === mRem (the polyphase layout needs odd m at up 2). */
  mStep: number;
  mRem: number;
  zeroAtHalf?: boolean;
  maxIterations?: number;
}

/** n frequencies spread as `from`'s are (by index), so a longer or shorter design starts near its answer. */
function respread(from: number[], n: number): number[] {
  return Array.from({ length: n }, (_, k) => {
    const at = (k * (from.length - 1)) / (n - 1);
    const i = Math.min(from.length - 2, Math.floor(at));
    return from[i]! + (from[i + 1]! - from[i]!) * (at - i);
  });
}

/**
 * The shortest equiripple low-pass meeting both ripples: from Kaiser's length
 * estimate (a few taps short for these long filters), longer until the stopband is
 * met (and `accept` agrees), or shorter while it still is; each design starts from
 * the last one's extremals. Throws as remezLowpass does, and beyond MAX_REMEZ_TAPS.
 */
export function shortestLowpass(
  search: LengthSearch,
  accept: (design: RemezResult) => boolean = () => true,
): RemezResult {
  const { passEdge, stopEdge, passRipple, stopRipple, mStep, mRem, maxIterations } = search;
  const spec: LowpassSpec = { passEdge, stopEdge, stopWeight: passRipple / stopRipple };
  if (search.zeroAtHalf) spec.zeroAtHalf = true;
  if (search.farEdge !== undefined && search.farRipple !== undefined) {
    spec.farEdge = search.farEdge;
    spec.farWeight = stopRipple / search.farRipple;
  }
  const extremals = (m: number) => (search.zeroAtHalf ? m : m + 1) + 1;
  const design = (m: number, from?: RemezResult) =>
    remezLowpass(m, spec, maxIterations, from && respread(from.extremals, extremals(m)));
  const estimate =
    (-10 * Math.log10(passRipple * stopRipple) - 13) / (14.6 * (stopEdge - passEdge)) + 1;
  const align = (m: number) => m + ((((mRem - m) % mStep) + mStep) % mStep);
  let m = align(Math.max(3, Math.ceil((estimate - 1) / 2)));
  const tooLong = (m: number): never => {
    throw new RemoteMediaError(
      'node_failed',
      `shortestLowpass: ${2 * m + 1} taps is beyond the ${MAX_REMEZ_TAPS} the exchange designs reliably`,
    );
  };
  if (2 * m + 1 > MAX_REMEZ_TAPS) tooLong(m);
  const meets = (r: RemezResult) => r.delta <= passRipple && accept(r);
  let best = design(m);
  if (meets(best)) {
    while (m - mStep >= 3) {
      const shorter = design(m - mStep, best);
      if (!meets(shorter)) break;
      best = shorter;
      m -= mStep;
    }
    return best;
  }
  for (;;) {
    m += mStep;
    if (2 * m + 1 > MAX_REMEZ_TAPS) tooLong(m);
    best = design(m, best);
    if (meets(best)) return best;
  }
}
