// DSP kernels for RemoteMedia Web, in AssemblyScript. Built twice by
// scripts/build-wasm.mjs: with SIMD (ASC_FEATURE_SIMD, v128 paths) and without.
// Every kernel works on buffers the caller lays out in linear memory (from
// heapBase() up) and allocates nothing, so one instance per node serves every
// frame of a stream. web/core/nodes/audio/ has a plain-TypeScript twin of each.

/** First free byte after the module's static data: callers lay buffers out from here. */
export function heapBase(): usize {
  return __heap_base;
}

/** Sum of a[i] * b[i] for i < n (float32). */
// @ts-ignore: decorator
@inline
function dot(a: usize, b: usize, n: i32): f32 {
  let i = 0;
  let sum: f32 = 0;
  if (ASC_FEATURE_SIMD) {
    let acc0 = f32x4.splat(0);
    let acc1 = f32x4.splat(0);
    for (; i + 8 <= n; i += 8) {
      const o = <usize>i << 2;
      acc0 = f32x4.add(acc0, f32x4.mul(v128.load(a + o), v128.load(b + o)));
      acc1 = f32x4.add(acc1, f32x4.mul(v128.load(a + o, 16), v128.load(b + o, 16)));
    }
    const acc = f32x4.add(acc0, acc1);
    sum =
      f32x4.extract_lane(acc, 0) +
      f32x4.extract_lane(acc, 1) +
      f32x4.extract_lane(acc, 2) +
      f32x4.extract_lane(acc, 3);
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    sum += load<f32>(a + o) * load<f32>(b + o);
  }
  return sum;
}

/**
 * Polyphase resampling of one channel. Output k is the dot product of the filter
 * phase (pos % up) with input[pos / up .. + taps), where pos = pos0 + k * down.
 * Writes `count` outputs to output[k * stride] (interleaving channels in place).
 */
/**
 * Two dot products of length n sharing their loads: out0 = rowA . inA and
 * out1 = rowB . inB, where rowA == rowB (same phase) or inA == inB (same input
 * window); the shared operand is loaded once. The resampling loop is bound by
 * loads, so this is about 1.5x quicker than two dot() calls, and each sum is
 * computed exactly as dot() computes it (same lanes, same order).
 */
// @ts-ignore: decorator
@inline
function dotPair(
  rowA: usize,
  rowB: usize,
  inA: usize,
  inB: usize,
  n: i32,
  out0: usize,
  out1: usize,
): void {
  let i = 0;
  let sum0: f32 = 0;
  let sum1: f32 = 0;
  if (ASC_FEATURE_SIMD) {
    let a0 = f32x4.splat(0);
    let a1 = f32x4.splat(0);
    let b0 = f32x4.splat(0);
    let b1 = f32x4.splat(0);
    if (rowA == rowB) {
      for (; i + 8 <= n; i += 8) {
        const o = <usize>i << 2;
        const h0 = v128.load(rowA + o);
        const h1 = v128.load(rowA + o, 16);
        a0 = f32x4.add(a0, f32x4.mul(h0, v128.load(inA + o)));
        a1 = f32x4.add(a1, f32x4.mul(h1, v128.load(inA + o, 16)));
        b0 = f32x4.add(b0, f32x4.mul(h0, v128.load(inB + o)));
        b1 = f32x4.add(b1, f32x4.mul(h1, v128.load(inB + o, 16)));
      }
    } else {
      for (; i + 8 <= n; i += 8) {
        const o = <usize>i << 2;
        const x0 = v128.load(inA + o);
        const x1 = v128.load(inA + o, 16);
        a0 = f32x4.add(a0, f32x4.mul(v128.load(rowA + o), x0));
        a1 = f32x4.add(a1, f32x4.mul(v128.load(rowA + o, 16), x1));
        b0 = f32x4.add(b0, f32x4.mul(v128.load(rowB + o), x0));
        b1 = f32x4.add(b1, f32x4.mul(v128.load(rowB + o, 16), x1));
      }
    }
    const accA = f32x4.add(a0, a1);
    const accB = f32x4.add(b0, b1);
    sum0 =
      f32x4.extract_lane(accA, 0) +
      f32x4.extract_lane(accA, 1) +
      f32x4.extract_lane(accA, 2) +
      f32x4.extract_lane(accA, 3);
    sum1 =
      f32x4.extract_lane(accB, 0) +
      f32x4.extract_lane(accB, 1) +
      f32x4.extract_lane(accB, 2) +
      f32x4.extract_lane(accB, 3);
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    sum0 += load<f32>(rowA + o) * load<f32>(inA + o);
    sum1 += load<f32>(rowB + o) * load<f32>(inB + o);
  }
  store<f32>(out0, sum0);
  store<f32>(out1, sum1);
}

/**
 * Four dot products with one filter row: out[j * outStep] = row . input[j * step ..],
 * j = 0..3. Integer decimation (up == 1) uses one phase for every output, so each
 * coefficient vector is loaded once for four outputs; each sum is computed as
 * dot() computes it (same lanes, same order).
 */
// @ts-ignore: decorator
@inline
function dotQuad(row: usize, input: usize, step: usize, n: i32, out: usize, outStep: usize): void {
  let i = 0;
  let s0: f32 = 0;
  let s1: f32 = 0;
  let s2: f32 = 0;
  let s3: f32 = 0;
  const in1 = input + step;
  const in2 = in1 + step;
  const in3 = in2 + step;
  if (ASC_FEATURE_SIMD) {
    let a0 = f32x4.splat(0);
    let a1 = f32x4.splat(0);
    let b0 = f32x4.splat(0);
    let b1 = f32x4.splat(0);
    let c0 = f32x4.splat(0);
    let c1 = f32x4.splat(0);
    let d0 = f32x4.splat(0);
    let d1 = f32x4.splat(0);
    for (; i + 8 <= n; i += 8) {
      const o = <usize>i << 2;
      const h0 = v128.load(row + o);
      const h1 = v128.load(row + o, 16);
      a0 = f32x4.add(a0, f32x4.mul(h0, v128.load(input + o)));
      a1 = f32x4.add(a1, f32x4.mul(h1, v128.load(input + o, 16)));
      b0 = f32x4.add(b0, f32x4.mul(h0, v128.load(in1 + o)));
      b1 = f32x4.add(b1, f32x4.mul(h1, v128.load(in1 + o, 16)));
      c0 = f32x4.add(c0, f32x4.mul(h0, v128.load(in2 + o)));
      c1 = f32x4.add(c1, f32x4.mul(h1, v128.load(in2 + o, 16)));
      d0 = f32x4.add(d0, f32x4.mul(h0, v128.load(in3 + o)));
      d1 = f32x4.add(d1, f32x4.mul(h1, v128.load(in3 + o, 16)));
    }
    s0 = sumLanes(f32x4.add(a0, a1));
    s1 = sumLanes(f32x4.add(b0, b1));
    s2 = sumLanes(f32x4.add(c0, c1));
    s3 = sumLanes(f32x4.add(d0, d1));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const h = load<f32>(row + o);
    s0 += h * load<f32>(input + o);
    s1 += h * load<f32>(in1 + o);
    s2 += h * load<f32>(in2 + o);
    s3 += h * load<f32>(in3 + o);
  }
  store<f32>(out, s0);
  store<f32>(out + outStep, s1);
  store<f32>(out + 2 * outStep, s2);
  store<f32>(out + 3 * outStep, s3);
}

/** Lane 0 + lane 1 + lane 2 + lane 3, in that order (as dot() reduces). */
// @ts-ignore: decorator
@inline
function sumLanes(v: v128): f32 {
  return (
    f32x4.extract_lane(v, 0) +
    f32x4.extract_lane(v, 1) +
    f32x4.extract_lane(v, 2) +
    f32x4.extract_lane(v, 3)
  );
}

export function resample(
  table: usize,
  taps: i32,
  input: usize,
  output: usize,
  stride: i32,
  pos0: i32,
  up: i32,
  down: i32,
  count: i32,
): void {
  let pos = pos0;
  const rowBytes = <usize>taps << 2;
  const outStep = <usize>stride << 2;
  let k = 0;
  const step = <usize>down << 2;
  if (up == 1) {
    for (; k + 4 <= count; k += 4) {
      dotQuad(table, input + (<usize>pos << 2), step, taps, output + ((<usize>k * <usize>stride) << 2), outStep);
      pos += 4 * down;
    }
  } else {
    // Outputs k + r, k + r + up, k + r + 2 up, k + r + 3 up share a phase (their
    // positions differ by up * down, so their windows by down input samples): one
    // row load serves four outputs, as in integer decimation.
    const group = 4 * up;
    const groupStep = <usize>up * outStep;
    for (; k + group <= count; k += group) {
      for (let r = 0; r < up; r++) {
        const p = pos + r * down;
        const base = p / up;
        const row = table + <usize>(p - base * up) * rowBytes;
        dotQuad(row, input + (<usize>base << 2), step, taps, output + ((<usize>(k + r) * <usize>stride) << 2), groupStep);
      }
      pos += group * down;
    }
  }
  // Outputs two at a time when they share a filter row (integer decimation: up == 1)
  // or an input window (upsampling: consecutive phases of one input position).
  for (; k + 2 <= count; k += 2) {
    const base = pos / up;
    const phase = pos - base * up;
    const next = pos + down;
    const base1 = next / up;
    const phase1 = next - base1 * up;
    const out = output + ((<usize>k * <usize>stride) << 2);
    const rowA = table + <usize>phase * rowBytes;
    const inA = input + (<usize>base << 2);
    if (phase1 == phase || base1 == base) {
      dotPair(rowA, table + <usize>phase1 * rowBytes, inA, input + (<usize>base1 << 2), taps, out, out + outStep);
    } else {
      store<f32>(out, dot(rowA, inA, taps));
      store<f32>(out + outStep, dot(table + <usize>phase1 * rowBytes, input + (<usize>base1 << 2), taps));
    }
    pos = next + down;
  }
  for (; k < count; k++) {
    const base = pos / up;
    const phase = pos - base * up;
    const y = dot(table + <usize>phase * rowBytes, input + (<usize>base << 2), taps);
    store<f32>(output + ((<usize>k * <usize>stride) << 2), y);
    pos += down;
  }
}

/**
 * input[3 n + q] to stream q at n (q < 3) for n < ceil(frames / 3): 12 samples per
 * pass with shuffles (48 -> 16 kHz splits its 24 kHz input so), then one at a time.
 */
// @ts-ignore: decorator
@inline
function splitThree(input: usize, frames: i32, streams: usize, streamBytes: usize): void {
  const s1 = streams + streamBytes;
  const s2 = s1 + streamBytes;
  let n = 0;
  for (; 3 * (n + 4) <= frames; n += 4) {
    const src = input + (<usize>(3 * n) << 2);
    const a = v128.load(src);
    const b = v128.load(src, 16);
    const c = v128.load(src, 32);
    const o = <usize>n << 2;
    v128.store(streams + o, v128.shuffle<f32>(v128.shuffle<f32>(a, b, 0, 3, 6, 7), c, 0, 1, 2, 5));
    v128.store(s1 + o, v128.shuffle<f32>(v128.shuffle<f32>(a, b, 1, 4, 7, 0), c, 0, 1, 2, 6));
    v128.store(s2 + o, v128.shuffle<f32>(v128.shuffle<f32>(a, b, 2, 5, 0, 0), c, 0, 1, 4, 7));
  }
  for (let i = 3 * n; i < frames; i++) {
    const q = i - 3 * (i / 3);
    store<f32>(streams + <usize>q * streamBytes + (<usize>(i / 3) << 2), load<f32>(input + (<usize>i << 2)));
  }
}

/**
 * The polyphase stage for filters whose rows are each symmetric (up <= 2: row 0 is
 * symmetric about its centre tap, row 1 of up = 2 about its middle), in transposed
 * form. Outputs k = r, r + up, r + 2 up, ... share a phase, and their windows start
 * `down` input samples apart; with the input split into `down` streams (stream q
 * holds input[n * down + q]), tap i of those outputs reads consecutive samples of one
 * stream. So 16 outputs are computed side by side, four per vector, each tap pair
 * splat once; the two samples a pair meets are added before the multiply (half the
 * multiplies), and no horizontal sums are needed.
 *
 * lens holds each row's length L (its taps past L are zero); each output is
 * sum over m < L / 2 of row[m] * (x[m] + x[L - 1 - m]) in foldedGroup's chain order
 * (chain 4 down), plus the centre row[L / 2] * x[L / 2] when L is odd, in float32:
 * the scalar remainder (foldedOne) computes
 * exactly what the vector lanes do, so an output does not depend on its place in a
 * group (nor on how the input was chunked).
 *
 * frames input samples are split into streams (down rows of streamLen floats);
 * ptrs is scratch for one row's tap addresses (taps words).
 */
export function resampleSymmetric(
  table: usize,
  taps: i32,
  lens: usize,
  input: usize,
  frames: i32,
  streams: usize,
  streamLen: i32,
  ptrs: usize,
  output: usize,
  stride: i32,
  pos0: i32,
  up: i32,
  down: i32,
  count: i32,
): void {
  const streamBytes = <usize>streamLen << 2;
  if (down == 1) {
    memory.copy(streams, input, <usize>frames << 2);
  } else if (ASC_FEATURE_SIMD && down == 3) {
    splitThree(input, frames, streams, streamBytes);
  } else {
    const step = <usize>down << 2;
    for (let q = 0; q < down; q++) {
      const dst = streams + <usize>q * streamBytes;
      let src = input + (<usize>q << 2);
      const end = input + (<usize>frames << 2);
      for (let at: usize = 0; src < end; at += 4, src += step) store<f32>(dst + at, load<f32>(src));
    }
  }
  const rowBytes = <usize>taps << 2;
  const outStep = (<usize>up * <usize>stride) << 2;
  for (let r = 0; r < up && r < count; r++) {
    const p = pos0 + r * down;
    const base = p / up;
    const phase = p - base * up;
    const row = table + <usize>phase * rowBytes;
    const len = load<i32>(lens + (<usize>phase << 2));
    const pairs = len >> 1;
    // Where tap i of this phase's first output reads: stream (base + i) % down, at (base + i) / down.
    // (Counted up rather than divided: a division per tap costs as much as its work.)
    let q = base % down;
    let at = streams + <usize>q * streamBytes + (<usize>(base / down) << 2);
    for (let i = 0; i < len; i++) {
      store<u32>(ptrs + (<usize>i << 2), <u32>at);
      if (++q == down) {
        q = 0;
        at += 4 - <usize>(down - 1) * streamBytes;
      } else {
        at += streamBytes;
      }
    }
    const n = (count - r + up - 1) / up;
    const out = output + ((<usize>r * <usize>stride) << 2);
    // The middle tap of an odd row, added after the pairs.
    const middle = len & 1 ? <usize>load<u32>(ptrs + (<usize>pairs << 2)) : 0;
    const hMiddle = len & 1 ? load<f32>(row + (<usize>pairs << 2)) : 0;
    // Tap i + 4 down reads the same stream one vector (4 samples) on.
    const chain = 4 * down;
    let j = 0;
    if (ASC_FEATURE_SIMD) {
      const cv = f32x4.splat(hMiddle);
      for (; j + 16 <= n; j += 16) {
        const jo = <usize>j << 2;
        foldedGroup(row, len, chain, ptrs, 0, jo, cv, middle ? middle + jo : 0, out + <usize>j * outStep, outStep);
      }
    }
    for (; j < n; j++) {
      const jo = <usize>j << 2;
      let y = foldedOne(row, len, chain, ptrs, 0, jo);
      if (middle) y += hMiddle * load<f32>(middle + jo);
      store<f32>(out + <usize>j * outStep, y);
    }
  }
}

/**
 * Copies every other sample of a strided channel: src[0], src[2 stride], ... to
 * first and src[stride], src[3 stride], ... to second (n source samples). The
 * half-band stage keeps the two phases of its input apart, so its taps read
 * consecutive samples.
 */
export function splitPhases(src: usize, stride: i32, n: i32, first: usize, second: usize): void {
  let i = 0;
  if (ASC_FEATURE_SIMD && stride == 1) {
    for (; i + 8 <= n; i += 8) {
      const a = v128.load(src + (<usize>i << 2));
      const b = v128.load(src + (<usize>i << 2), 16);
      const o = <usize>(i >> 1) << 2;
      v128.store(first + o, v128.shuffle<f32>(a, b, 0, 2, 4, 6));
      v128.store(second + o, v128.shuffle<f32>(a, b, 1, 3, 5, 7));
    }
  }
  const step = <usize>stride << 2;
  for (; i + 2 <= n; i += 2) {
    const at = src + <usize>i * step;
    const o = <usize>(i >> 1) << 2;
    store<f32>(first + o, load<f32>(at));
    store<f32>(second + o, load<f32>(at + step));
  }
  if (i < n) store<f32>(first + (<usize>(i >> 1) << 2), load<f32>(src + <usize>i * step));
}

/**
 * Half-band decimation by 2: output j = (sum over m of h[m] * even[j + m]) +
 * centre * odd[j], where even and odd hold the two phases of the input
 * (splitPhases) and odd is already offset to the centre tap. Every other tap of a
 * half-band filter is zero but the centre, so only the even phase meets the taps:
 * half the work of a plain filter of the same length. Writes output[j * stride].
 *
 * Consecutive outputs read consecutive windows, so 16 of them are computed side by
 * side, four per vector: each tap is loaded once (splat) for 16 outputs, and no
 * horizontal sums are needed. The taps are symmetric (h[m] == h[taps - 1 - m], as
 * designHalfband makes them), so the two samples a tap pair meets are added first:
 * half the multiplies. Each output is summed in float32 over the pairs m,
 * h[m] * (e[m] + e[taps - 1 - m]), in foldedGroup's chain order (chain 4), and the
 * scalar remainder (foldedOne) sums in the same order: exactly what the vector lanes
 * compute.
 */
export function halfband(
  h: usize,
  taps: i32,
  centre: f32,
  even: usize,
  odd: usize,
  output: usize,
  stride: i32,
  count: i32,
): void {
  const outStep = <usize>stride << 2;
  let k = 0;
  if (ASC_FEATURE_SIMD) {
    const c = f32x4.splat(centre);
    for (; k + 16 <= count; k += 16) {
      const jo = <usize>k << 2;
      foldedGroup(h, taps, 4, 0, even + jo, 0, c, odd + jo, output + <usize>k * outStep, outStep);
    }
  }
  for (; k < count; k++) {
    const jo = <usize>k << 2;
    const y = foldedOne(h, taps, 4, 0, even + jo, 0);
    store<f32>(output + <usize>k * outStep, y + centre * load<f32>(odd + jo));
  }
}

/**
 * 16 outputs of a symmetric filter row of length len (row[m] == row[len - 1 - m]),
 * four per vector, in transposed form: output j + l (l < 16) is
 * sum over pairs m of row[m] * (x_m[j + l] + x_(len-1-m)[j + l]), where tap i reads
 * the samples from address tap(i) + 4 (j + l): tap(i) = linear + 4 i when linear is
 * nonzero (one stream), else ptrs[i] + jo. Then cv * the samples at cp (when cp is
 * nonzero) is added: the half-band centre tap, or an odd row's middle tap.
 *
 * The pairs are taken in `chain` interleaved chains, m = r, r + chain, ...: tap
 * m + chain reads 4 samples (one vector) past tap m, and tap len - 1 - m - chain one
 * vector before tap len - 1 - m, so along a chain three of each side's four
 * vectors are the previous pair's, and a pair costs two loads (one each side) for
 * its 32 multiply-adds rather than eight. Each lane sums in that order, as
 * foldedOne does.
 */
// @ts-ignore: decorator
@inline
function foldedGroup(
  row: usize,
  len: i32,
  chain: i32,
  ptrs: usize,
  linear: usize,
  jo: usize,
  cv: v128,
  cp: usize,
  out: usize,
  outStep: usize,
): void {
  const pairs = len >> 1;
  let a0 = f32x4.splat(0);
  let a1 = f32x4.splat(0);
  let a2 = f32x4.splat(0);
  let a3 = f32x4.splat(0);
  for (let r = 0; r < chain && r < pairs; r++) {
    let pa = linear
      ? linear + (<usize>r << 2)
      : <usize>load<u32>(ptrs + (<usize>r << 2)) + jo;
    let pb = linear
      ? linear + (<usize>(len - 1 - r) << 2)
      : <usize>load<u32>(ptrs + (<usize>(len - 1 - r) << 2)) + jo;
    let f0 = v128.load(pa);
    let f1 = v128.load(pa, 16);
    let f2 = v128.load(pa, 32);
    let b1 = v128.load(pb, 16);
    let b2 = v128.load(pb, 32);
    let b3 = v128.load(pb, 48);
    for (let m = r; m < pairs; m += chain) {
      const f3 = v128.load(pa, 48);
      const b0 = v128.load(pb);
      const hm = v128.load32_splat(row + (<usize>m << 2));
      a0 = f32x4.add(a0, f32x4.mul(hm, f32x4.add(f0, b0)));
      a1 = f32x4.add(a1, f32x4.mul(hm, f32x4.add(f1, b1)));
      a2 = f32x4.add(a2, f32x4.mul(hm, f32x4.add(f2, b2)));
      a3 = f32x4.add(a3, f32x4.mul(hm, f32x4.add(f3, b3)));
      f0 = f1;
      f1 = f2;
      f2 = f3;
      b3 = b2;
      b2 = b1;
      b1 = b0;
      pa += 16;
      pb -= 16;
    }
  }
  if (cp) {
    a0 = f32x4.add(a0, f32x4.mul(cv, v128.load(cp)));
    a1 = f32x4.add(a1, f32x4.mul(cv, v128.load(cp, 16)));
    a2 = f32x4.add(a2, f32x4.mul(cv, v128.load(cp, 32)));
    a3 = f32x4.add(a3, f32x4.mul(cv, v128.load(cp, 48)));
  }
  if (outStep == 4) {
    v128.store(out, a0);
    v128.store(out, a1, 16);
    v128.store(out, a2, 32);
    v128.store(out, a3, 48);
  } else {
    storeLanes(out, outStep, a0);
    storeLanes(out + 4 * outStep, outStep, a1);
    storeLanes(out + 8 * outStep, outStep, a2);
    storeLanes(out + 12 * outStep, outStep, a3);
  }
}

/** One output as a lane of foldedGroup computes it (same pairs, same order), without cv. */
// @ts-ignore: decorator
@inline
function foldedOne(row: usize, len: i32, chain: i32, ptrs: usize, linear: usize, jo: usize): f32 {
  const pairs = len >> 1;
  let y: f32 = 0;
  for (let r = 0; r < chain && r < pairs; r++) {
    for (let m = r; m < pairs; m += chain) {
      const b = len - 1 - m;
      const x0 = linear
        ? load<f32>(linear + (<usize>m << 2))
        : load<f32>(<usize>load<u32>(ptrs + (<usize>m << 2)) + jo);
      const x1 = linear
        ? load<f32>(linear + (<usize>b << 2))
        : load<f32>(<usize>load<u32>(ptrs + (<usize>b << 2)) + jo);
      y += load<f32>(row + (<usize>m << 2)) * (x0 + x1);
    }
  }
  return y;
}

/** Stores the four lanes of v at out, out + step, out + 2 step, out + 3 step. */
// @ts-ignore: decorator
@inline
function storeLanes(out: usize, step: usize, v: v128): void {
  store<f32>(out, f32x4.extract_lane(v, 0));
  store<f32>(out + step, f32x4.extract_lane(v, 1));
  store<f32>(out + 2 * step, f32x4.extract_lane(v, 2));
  store<f32>(out + 3 * step, f32x4.extract_lane(v, 3));
}

/**
 * Multiplies n samples in place by `factor`. With `limit` > 0, samples beyond
 * +-limit are clamped to it. Returns how many samples were clamped.
 */
export function gain(buffer: usize, n: i32, factor: f32, limit: f32): i32 {
  let clamped = 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const f = f32x4.splat(factor);
    if (limit <= 0) {
      for (; i + 4 <= n; i += 4) {
        const p = buffer + (<usize>i << 2);
        v128.store(p, f32x4.mul(v128.load(p), f));
      }
    } else {
      const high = f32x4.splat(limit);
      const low = f32x4.splat(-limit);
      for (; i + 4 <= n; i += 4) {
        const p = buffer + (<usize>i << 2);
        const v = f32x4.mul(v128.load(p), f);
        const over = v128.or(f32x4.gt(v, high), f32x4.lt(v, low));
        clamped += <i32>popcnt(i32x4.bitmask(over));
        v128.store(p, f32x4.min(f32x4.max(v, low), high));
      }
    }
  }
  for (; i < n; i++) {
    const p = buffer + (<usize>i << 2);
    let v = load<f32>(p) * factor;
    if (limit > 0) {
      if (v > limit) {
        v = limit;
        clamped++;
      } else if (v < -limit) {
        v = -limit;
        clamped++;
      }
    }
    store<f32>(p, v);
  }
  return clamped;
}

/**
 * gain out of place, with the input's finiteness checked in the same pass: n samples
 * from src, times `factor` (clamped to +-limit when limit > 0), into dst. Returns how
 * many were clamped, or -1 when any input sample is NaN or infinite (x - x is then
 * NaN, not 0); src is left as it was, so the caller can say which one and where.
 * The Gain node's kernel: one pass where a JS finiteness loop and gain were two.
 */
export function gainChecked(src: usize, dst: usize, n: i32, factor: f32, limit: f32): i32 {
  let clamped = 0;
  let i = 0;
  let bad = false;
  if (ASC_FEATURE_SIMD) {
    const f = f32x4.splat(factor);
    const zero = f32x4.splat(0);
    let flags = i32x4.splat(0);
    if (limit <= 0) {
      for (; i + 4 <= n; i += 4) {
        const offset = <usize>i << 2;
        const x = v128.load(src + offset);
        flags = v128.or(flags, f32x4.ne(f32x4.sub(x, x), zero));
        v128.store(dst + offset, f32x4.mul(x, f));
      }
    } else {
      const high = f32x4.splat(limit);
      const low = f32x4.splat(-limit);
      for (; i + 4 <= n; i += 4) {
        const offset = <usize>i << 2;
        const x = v128.load(src + offset);
        flags = v128.or(flags, f32x4.ne(f32x4.sub(x, x), zero));
        const v = f32x4.mul(x, f);
        const over = v128.or(f32x4.gt(v, high), f32x4.lt(v, low));
        clamped += <i32>popcnt(i32x4.bitmask(over));
        v128.store(dst + offset, f32x4.min(f32x4.max(v, low), high));
      }
    }
    bad = v128.any_true(flags);
  }
  for (; i < n; i++) {
    const offset = <usize>i << 2;
    const x = load<f32>(src + offset);
    if (x - x != 0) bad = true;
    let v = x * factor;
    if (limit > 0) {
      if (v > limit) {
        v = limit;
        clamped++;
      } else if (v < -limit) {
        v = -limit;
        clamped++;
      }
    }
    store<f32>(dst + offset, v);
  }
  return bad ? -1 : clamped;
}

/** int16 little-endian PCM to float32 in [-1, 1). */
export function int16ToFloat(src: usize, dst: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const scale = f32x4.splat(1.0 / 32768.0);
    for (; i + 8 <= n; i += 8) {
      const pcm = v128.load(src + (<usize>i << 1));
      const out = dst + (<usize>i << 2);
      v128.store(out, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(pcm)), scale));
      v128.store(out, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(pcm)), scale), 16);
    }
  }
  for (; i < n; i++) {
    store<f32>(dst + (<usize>i << 2), <f32>load<i16>(src + (<usize>i << 1)) * (1.0 / 32768.0));
  }
}

/** float32 to int16 PCM, rounded, clamped to [-32768, 32767]. Returns the clamped count. */
export function floatToInt16(src: usize, dst: usize, n: i32): i32 {
  let clamped = 0;
  for (let i = 0; i < n; i++) {
    let v = nearest<f32>(load<f32>(src + (<usize>i << 2)) * 32768.0);
    if (v > 32767) {
      v = 32767;
      clamped++;
    } else if (v < -32768) {
      v = -32768;
      clamped++;
    }
    store<i16>(dst + (<usize>i << 1), <i16>v);
  }
  return clamped;
}

/** Sum of squares of n samples (float64 accumulator). */
export function sumSquares(buffer: usize, n: i32): f64 {
  let sum: f64 = 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    let acc = f64x2.splat(0);
    for (; i + 4 <= n; i += 4) {
      const v = v128.load(buffer + (<usize>i << 2));
      const lo = f64x2.promote_low_f32x4(v);
      const hi = f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1));
      acc = f64x2.add(acc, f64x2.add(f64x2.mul(lo, lo), f64x2.mul(hi, hi)));
    }
    sum = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
  }
  for (; i < n; i++) {
    const v = <f64>load<f32>(buffer + (<usize>i << 2));
    sum += v * v;
  }
  return sum;
}

/**
 * Power spectrum of one frame by direct DFT: basis holds `bins` rows of
 * cos(2 pi k n / nfft) * window[n], then `bins` rows of the sines. Writes
 * re^2 + im^2 per bin to power.
 */
export function dftPower(basis: usize, frame: usize, nfft: i32, bins: i32, power: usize): void {
  const rowBytes = <usize>nfft << 2;
  const sines = basis + <usize>bins * rowBytes;
  for (let k = 0; k < bins; k++) {
    const re = dot(basis + <usize>k * rowBytes, frame, nfft);
    const im = dot(sines + <usize>k * rowBytes, frame, nfft);
    store<f32>(power + (<usize>k << 2), re * re + im * im);
  }
}

/** out[r] = dot(matrix row r, vector) for a rows x cols row-major matrix. */
export function matVec(matrix: usize, vector: usize, rows: i32, cols: i32, out: usize): void {
  const rowBytes = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    store<f32>(out + (<usize>r << 2), dot(matrix + <usize>r * rowBytes, vector, cols));
  }
}
