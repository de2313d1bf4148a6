/**
 * Resample's folded (symmetric-tap) WASM kernels, the half-band cascade and the
 * in-place hand-over between its stages, in hostile orders: random rate pairs from the
 * rates people use (up, down, the cascade's ratios, near-unity), every quality, mono
 * and stereo, random chunk sizes from nothing (0-length pushes) to 10 s, flushes in
 * the middle of a stream, and another resampler on the same WASM instance growing its
 * memory between two pushes (every view a kernel kept dies then). Each is compared with
 * the one-shot result of the same kernel (exactly: chunking must not change a bit) and
 * with the TypeScript twin (to float32 rounding). NaN and Infinity input still give
 * the node's typed error naming the sample, wherever in the stream they come.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PipelineRunner } from '../../pipeline-runner.ts';
import { RemoteMediaError } from '../../errors.ts';
import { RuntimeData } from '../../runtime-data.ts';
import { DspInstance } from './dsp-module.ts';
import { createResampler, type Resampler } from './resample-cascade.ts';
import { concatSamples } from './resampler.ts';
import { RESAMPLE_QUALITIES, type ResampleQuality } from './resample-filter.ts';

const RATES = [8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000, 96000] as const;
const QUALITIES = Object.keys(RESAMPLE_QUALITIES) as ResampleQuality[];

/** Deterministic band-limited-ish noise in [-0.9, 0.9]: every tap of a kernel matters. */
function signal(frames: number, channels: number, seed: number): Float32Array {
  let state = seed >>> 0 || 1;
  const out = new Float32Array(frames * channels);
  for (let i = 0; i < out.length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const noise = (state / 2 ** 32 - 0.5) * 0.6;
    out[i] = 0.6 * Math.sin(i * 0.013 + seed) + noise;
  }
  return out;
}

function oneShot(r: Resampler, input: Float32Array): Float32Array {
  return concatSamples([r.push(input), r.flush()]);
}

/** The pushes of `sizes` frames each (0 allowed) over `input`, then flush. */
function chunked(r: Resampler, input: Float32Array, sizes: number[], channels: number) {
  const parts: Float32Array[] = [];
  let at = 0;
  for (const size of sizes) {
    parts.push(r.push(input.subarray(at * channels, (at + size) * channels)));
    at += size;
  }
  parts.push(r.flush());
  return concatSamples(parts);
}

/** The largest |a - b| over both (same length). */
function maxDifference(a: Float32Array, b: Float32Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

/** First index where `a` and `b` differ by more than `tolerance`, or -1. */
function firstDifference(a: Float32Array, b: Float32Array, tolerance = 0): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) {
    if (!(Math.abs(a[i]! - b[i]!) <= tolerance)) return i;
  }
  return -1;
}

/** A stream's chunk sizes: mostly small, some empty, now and then seconds long (up to 10 s). */
const chunkSizes = (rate: number) =>
  fc.array(
    fc.oneof(
      { weight: 2, arbitrary: fc.constant(0) },
      { weight: 6, arbitrary: fc.integer({ min: 1, max: 4000 }) },
      { weight: 1, arbitrary: fc.integer({ min: 1, max: 10 * rate }) },
    ),
    { minLength: 1, maxLength: 8 },
  );

const pair = fc
  .tuple(fc.constantFrom(...RATES), fc.constantFrom(...RATES))
  .filter(([from, to]) => from !== to);

describe('Resample kernels under hostile chunking', () => {
  it('chunked = one-shot exactly (WASM), and the TypeScript twin agrees to float32 rounding', async () => {
    const dsp = await DspInstance.create();
    let checked = 0;
    let longest = 0;
    let worst = 0;
    await fc.assert(
      fc.asyncProperty(
        pair.chain(([from, to]) =>
          fc.tuple(
            fc.constant(from),
            fc.constant(to),
            fc.constantFrom(...QUALITIES),
            fc.integer({ min: 1, max: 2 }),
            chunkSizes(from),
            fc.integer({ min: 1, max: 1e6 }),
          ),
        ),
        async ([from, to, quality, channels, sizes, seed]) => {
          // Long inputs are sampled sparsely: 10 s at 96 kHz through 'best' is slow in TS.
          const frames = sizes.reduce((a, b) => a + b, 0);
          const input = signal(frames, channels, seed);
          const whole = oneShot(createResampler(from, to, channels, dsp, quality), input);
          expect(whole.length).toBe(Math.ceil((frames * to) / from) * channels);
          const pieces = chunked(
            createResampler(from, to, channels, dsp, quality),
            input,
            sizes,
            channels,
          );
          const at = firstDifference(pieces, whole);
          expect(
            at,
            `${from} -> ${to} ${quality} ${channels} ch, chunks ${sizes.join(',')}: sample ${at}`,
          ).toBe(-1);
          if (frames <= 100_000) {
            const twin = oneShot(createResampler(from, to, channels, 'typescript', quality), input);
            // float32 rounding of a sum of a few hundred products of magnitude <= 1 (seen: 3e-7).
            const off = firstDifference(whole, twin, 2e-6);
            expect(off, `${from} -> ${to} ${quality} ${channels} ch: WASM vs TS at ${off}`).toBe(
              -1,
            );
            worst = Math.max(worst, maxDifference(whole, twin));
          }
          longest = Math.max(longest, frames / from);
          checked++;
        },
      ),
      { numRuns: 120 },
    );
    expect(checked).toBe(120);
    console.log(
      `resample attack: 120 streams, longest ${longest.toFixed(1)} s, WASM vs TS at most ${worst.toExponential(2)}`,
    );
  }, 300_000);

  it('a flush in the middle starts afresh: what follows is a new stream, bit for bit', async () => {
    const dsp = await DspInstance.create();
    await fc.assert(
      fc.asyncProperty(
        pair,
        fc.constantFrom(...QUALITIES),
        fc.integer({ min: 1, max: 2 }),
        chunkSizes(8000),
        chunkSizes(8000),
        async ([from, to], quality, channels, before, after) => {
          const a = signal(
            before.reduce((x, y) => x + y, 0),
            channels,
            1,
          );
          const b = signal(
            after.reduce((x, y) => x + y, 0),
            channels,
            2,
          );
          const r = createResampler(from, to, channels, dsp, quality);
          const first = chunked(r, a, before, channels); // ends with a flush
          const second = chunked(r, b, after, channels);
          expect(
            firstDifference(first, oneShot(createResampler(from, to, channels, dsp, quality), a)),
          ).toBe(-1);
          expect(
            firstDifference(second, oneShot(createResampler(from, to, channels, dsp, quality), b)),
          ).toBe(-1);
        },
      ),
      { numRuns: 60 },
    );
  }, 300_000);

  it('another resampler growing the shared WASM memory between two pushes changes nothing', async () => {
    for (const [from, to, channels] of [
      [48000, 16000, 1], // half-band into the folded polyphase stage, in place
      [48000, 16000, 2],
      [44100, 16000, 1],
      [96000, 8000, 2], // three half-band stages
      [16000, 48000, 1], // folded polyphase, up
    ] as const) {
      const dsp = await DspInstance.create();
      const input = signal(48_000, channels, 7);
      const expected = oneShot(createResampler(from, to, channels, dsp, 'high'), input);
      const r = createResampler(from, to, channels, dsp, 'high');
      const parts = [r.push(input.subarray(0, 10_000 * channels))];
      const pagesBefore = dsp.exports.memory.buffer.byteLength;
      // Another stream on the same instance, large enough that memory must grow.
      const other = createResampler(44100, 8000, 2, dsp, 'best');
      other.push(signal(20 * 44100, 2, 3));
      expect(dsp.exports.memory.buffer.byteLength).toBeGreaterThan(pagesBefore);
      parts.push(r.push(input.subarray(10_000 * channels, 30_000 * channels)));
      parts.push(r.push(new Float32Array(0)));
      parts.push(r.push(input.subarray(30_000 * channels)), r.flush());
      const got = concatSamples(parts);
      const at = firstDifference(got, expected);
      expect(at, `${from} -> ${to} ${channels} ch: sample ${at}`).toBe(-1);
    }
  }, 120_000);

  it('outputs already returned are not changed by later pushes (slab views, not kernel memory)', async () => {
    const dsp = await DspInstance.create();
    for (const [from, to, channels] of [
      [48000, 16000, 1],
      [16000, 48000, 2],
      [44100, 22050, 1],
    ] as const) {
      const r = createResampler(from, to, channels, dsp, 'high');
      const outs: Float32Array[] = [];
      const copies: Float32Array[] = [];
      for (let i = 0; i < 40; i++) {
        const out = r.push(signal(960, channels, i));
        outs.push(out);
        copies.push(out.slice());
      }
      outs.forEach((out, i) => expect(firstDifference(out, copies[i]!), `push ${i}`).toBe(-1));
    }
  });
});

describe('Resample node: non-finite input is still a typed error', () => {
  const runner = new PipelineRunner();
  for (const [what, value] of [
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['-Infinity', Number.NEGATIVE_INFINITY],
  ] as const) {
    for (const channels of [1, 2]) {
      it(`${what} in the third frame, ${channels} ch, after a good start: invalid_data naming Resample and the index`, async () => {
        const good = () => RuntimeData.audio(signal(960, channels, 1), 48000, channels);
        const bad = signal(960, channels, 2);
        const index = 2 * 317 + channels - 1;
        bad[index] = value;
        const error = await runner
          .run(
            {
              version: 'v1',
              metadata: { name: 'resample-nonfinite' },
              nodes: [{ id: 'rs', node_type: 'Resample', params: { target_rate: 16000 } }],
              connections: [],
            },
            [good(), good(), RuntimeData.audio(bad, 48000, channels), good()],
          )
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        expect(error).toBeInstanceOf(RemoteMediaError);
        const typed = error as RemoteMediaError & { cause?: unknown };
        const inner = (typed.kind === 'invalid_data' ? typed : typed.cause) as RemoteMediaError;
        expect(String(typed.message) + String(inner?.message)).toContain(
          `Resample received a non-finite sample (${value}) at index ${index}`,
        );
      });
    }
  }
});
