/**
 * Audio kernels: each WASM kernel (SIMD and scalar builds) against its plain
 * TypeScript twin on the same input in the same run. resampleQualityMarkdown (our
 * resampling quality beside sox) is rendered by the resample benchmark.
 */
import { Bench } from 'tinybench';
import { DspInstance } from '../web/core/nodes/audio/dsp-module.ts';
import {
  LogMelAnalyzer,
  type MelKernel,
  typescriptMelKernel,
  wasmMelKernel,
} from '../web/core/nodes/audio/log-mel-analyzer.ts';
import { createResampler } from '../web/core/nodes/audio/resample-cascade.ts';
import { planResample } from '../web/core/nodes/audio/resample-filter.ts';
import { aliasing, sineQuality } from '../tests/audio/resample-quality.ts';
import { type BenchSection, type BenchTable, rowsOf } from './report.ts';

const SECONDS = 10;

async function resampleThroughput(from: number, to: number): Promise<BenchTable> {
  // What the Resample node runs (createResampler: half-band stages where planned, then
  // the polyphase stage), with each kernel family.
  const plan = planResample(from, to);
  const input = Float32Array.from({ length: from * SECONDS }, (_, i) => Math.sin(i * 0.01) * 0.5);
  const kernels: [string, DspInstance | 'typescript'][] = [
    ['TypeScript twin (baseline)', 'typescript'],
    ['WASM scalar', await DspInstance.create('scalar')],
    ['WASM SIMD', await DspInstance.create('simd')],
  ];
  const bench = new Bench({ time: 2000, warmupTime: 300, iterations: 5 });
  for (const [name, dsp] of kernels) {
    const resampler = createResampler(from, to, 1, dsp);
    // 20 ms chunks, as audio arrives from a microphone.
    const chunk = from / 50;
    bench.add(`Resample ${from} -> ${to}, ${name}`, () => {
      for (let at = 0; at < input.length; at += chunk)
        resampler.push(input.subarray(at, at + chunk));
      resampler.flush();
    });
  }
  await bench.run();
  const rows = rowsOf(bench.tasks);
  const simd = rows[2]!;
  return {
    unit: `per ${SECONDS} s of mono audio in 20 ms chunks (default quality: ${plan.halfbands.map((h) => `${h.taps.length}-tap half-band, then `).join('')}${plan.filter.taps} taps)`,
    rows,
    note:
      `Real-time factor: WASM SIMD ${((SECONDS * 1000) / simd.p50).toFixed(0)}x real time, ` +
      `${(rows[0]!.p50 / simd.p50).toFixed(2)}x its TypeScript twin; ` +
      `WASM scalar ${((SECONDS * 1000) / rows[1]!.p50).toFixed(0)}x; TypeScript ${((SECONDS * 1000) / rows[0]!.p50).toFixed(0)}x. ` +
      'Goal for 48000 -> 16000: at least 1000x real time and 2x the TypeScript twin.',
  };
}

/** The small kernels a node calls per frame, each as the node uses it (copy in, run). */
async function elementwiseKernels(): Promise<BenchTable[]> {
  const frame = 960; // 20 ms at 48 kHz
  const frames = 500; // 10 s
  const audio = Float32Array.from({ length: frame }, (_, i) => Math.sin(i * 0.05) * 0.8);
  const pcm = Int16Array.from(audio, (v) => Math.round(v * 32767));
  const tables: BenchTable[] = [];
  const variants = [
    ['WASM scalar', await DspInstance.create('scalar')],
    ['WASM SIMD', await DspInstance.create('simd')],
  ] as const;
  const cases: [string, () => void, (dsp: DspInstance) => () => void][] = [
    [
      'Gain (+6 dB, clip)',
      () => {
        const out = new Float32Array(frame);
        for (let f = 0; f < frames; f++) {
          for (let i = 0; i < frame; i++) {
            const v = audio[i]! * 2;
            out[i] = v > 1 ? 1 : v < -1 ? -1 : v;
          }
        }
      },
      (dsp) => {
        const ptr = dsp.alloc(frame * 4);
        const view = dsp.f32(ptr, frame);
        return () => {
          for (let f = 0; f < frames; f++) {
            view.set(audio);
            dsp.exports.gain(ptr, frame, 2, 1);
          }
        };
      },
    ],
    [
      'int16 -> float32',
      () => {
        const out = new Float32Array(frame);
        for (let f = 0; f < frames; f++) for (let i = 0; i < frame; i++) out[i] = pcm[i]! / 32768;
      },
      (dsp) => {
        const src = dsp.alloc(frame * 2);
        const dst = dsp.alloc(frame * 4);
        const view = dsp.i16(src, frame);
        return () => {
          for (let f = 0; f < frames; f++) {
            view.set(pcm);
            dsp.exports.int16ToFloat(src, dst, frame);
          }
        };
      },
    ],
    [
      'sum of squares (EnergyVAD)',
      () => {
        let total = 0;
        for (let f = 0; f < frames; f++)
          for (let i = 0; i < frame; i++) total += audio[i]! * audio[i]!;
        if (total < 0) throw new Error('unreachable');
      },
      (dsp) => {
        const ptr = dsp.alloc(frame * 4);
        const view = dsp.f32(ptr, frame);
        return () => {
          for (let f = 0; f < frames; f++) {
            view.set(audio);
            dsp.exports.sumSquares(ptr, frame);
          }
        };
      },
    ],
  ];
  for (const [name, twin, wasm] of cases) {
    const bench = new Bench({ time: 700, warmupTime: 200 });
    bench.add(`${name}, TypeScript twin (baseline)`, twin);
    for (const [variant, dsp] of variants) bench.add(`${name}, ${variant}`, wasm(dsp));
    await bench.run();
    tables.push({
      unit: 'per 10 s of 48 kHz mono audio in 20 ms frames',
      rows: rowsOf(bench.tasks),
    });
  }
  return tables;
}

async function logMelThroughput(): Promise<BenchTable> {
  const input = Float32Array.from({ length: 16000 * SECONDS }, (_, i) => Math.sin(i * 0.01) * 0.5);
  const kernels: [string, MelKernel][] = [
    ['TypeScript twin (baseline)', typescriptMelKernel(80)],
    ['WASM scalar', wasmMelKernel(80, await DspInstance.create('scalar'))],
    ['WASM SIMD', wasmMelKernel(80, await DspInstance.create('simd'))],
  ];
  const bench = new Bench({ time: 2000, warmupTime: 300, iterations: 3 });
  for (const [name, kernel] of kernels) {
    const analyzer = new LogMelAnalyzer(80, kernel);
    bench.add(`LogMel 80 mels, ${name}`, () => {
      for (let at = 0; at < input.length; at += 320) analyzer.push(input.subarray(at, at + 320));
      analyzer.finish();
    });
  }
  await bench.run();
  const rows = rowsOf(bench.tasks);
  return {
    unit: `per ${SECONDS} s of 16 kHz audio in 20 ms chunks (1000 frames, n_fft 400 by direct DFT)`,
    rows,
    note: `Real-time factor: WASM SIMD ${((SECONDS * 1000) / rows[2]!.p50).toFixed(0)}x, scalar ${((SECONDS * 1000) / rows[1]!.p50).toFixed(0)}x, TypeScript ${((SECONDS * 1000) / rows[0]!.p50).toFixed(0)}x.`,
  };
}

export async function benchAudioKernels(): Promise<BenchSection> {
  const tables = [
    await resampleThroughput(48000, 16000),
    await resampleThroughput(44100, 16000),
    await logMelThroughput(),
    ...(await elementwiseKernels()),
  ];
  return { title: 'Audio kernels (Node)', tables };
}

/** Resampling quality beside sox; not a timing, so rendered as its own markdown. */
export async function resampleQualityMarkdown(): Promise<string> {
  const lines = [
    '### Resample quality beside sox',
    '',
    'In-band sines (1 s, 0.5 peak, 50 ms trimmed at each end): SNR against the best-fitting sine, ours at the default quality. sox is `sox in.wav -e floating-point -b 32 out.wav rate <to>` (its default, high quality), on the same float32 input.',
    '',
    '| rate pair | sine | ours | sox |',
    '| --- | ---: | ---: | ---: |',
  ];
  for (const [from, to] of [
    [48000, 16000],
    [44100, 16000],
    [16000, 48000],
    [22050, 44100],
    [8000, 24000],
  ] as const) {
    for (const row of await sineQuality(from, to, [0.1, 0.5, 0.9])) {
      if (row.soxWarnings) throw new Error(`sox warned on ${row.pair}: ${row.soxWarnings}`);
      lines.push(
        `| ${row.pair} | ${row.freq} Hz | ${row.oursSnrDb.toFixed(1)} dB | ${row.soxSnrDb.toFixed(1)} dB |`,
      );
    }
  }
  lines.push(
    '',
    'Aliasing: white-ish noise (200 random sines) above the new Nyquist, scaled to a 0.6 peak so that neither resampler clips (sox reports no warning on any input here; the test asserts it), level at the output relative to the input (lower is better). An earlier table showed sox at -20 dB: that input peaked near 3.0, sox clipped it ("input clipped"), and the clipping products were counted as aliasing.',
    '',
    '| rate pair | noise band | ours | sox |',
    '| --- | --- | ---: | ---: |',
  );
  for (const [from, to] of [
    [48000, 16000],
    [44100, 16000],
    [44100, 22050],
  ] as const) {
    for (const margin of [0, 0.1]) {
      const r = await aliasing(from, to, margin);
      if (r.soxWarnings) throw new Error(`sox warned on ${r.pair}: ${r.soxWarnings}`);
      const band = `${Number((((to / 2) * (1 + margin)) / 1000).toFixed(3))} - ${from / 2000} kHz`;
      lines.push(`| ${r.pair} | ${band} | ${r.oursDb.toFixed(1)} dB | ${r.soxDb.toFixed(1)} dB |`);
    }
  }
  return lines.join('\n');
}
