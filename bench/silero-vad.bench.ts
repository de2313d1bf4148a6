/**
 * SileroVAD against @ricky0123/vad-web on the same espeak-ng speech, both on
 * onnxruntime-web's Node build, in the same run: the legacy model against vad-web's
 * NonRealTimeVAD, v5 against vad-web's own v5 model class and frame processor. Model loading is outside the timing; each figure is the median
 * of several passes over the audio.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import type * as Ort from 'onnxruntime-web';
import { PipelineRunner, RuntimeData, type StreamSession } from '../web/core/internal.ts';
import { nodeSileroAssets } from '../web/nodes/silero-assets-node.ts';
import { createSileroVad } from '../web/nodes/silero-vad.ts';
import { makeSpeechFixture } from '../tests/audio/speech-fixture.ts';
import type { BenchSection, BenchRow } from './report.ts';

const PASSES = 5;
const require = createRequire(import.meta.url);

function median(values: number[]): { p50: number; p99: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: sorted[Math.floor(sorted.length / 2)]!, p99: sorted[sorted.length - 1]! };
}

/** Boundaries each detector reports on the fixture, against the truth. */
async function accuracyMarkdown(
  runner: PipelineRunner,
  fixture: ReturnType<typeof makeSpeechFixture>,
): Promise<string> {
  const chunks: RuntimeData[] = [];
  for (let at = 0; at < fixture.wav.samples.length; at += 320) {
    chunks.push(RuntimeData.audio(fixture.wav.samples.slice(at, at + 320), 16000));
  }
  const detectors: [string, string, Record<string, unknown>][] = [
    ['SileroVAD v5 (defaults)', 'SileroVAD', {}],
    ['SileroVAD legacy (defaults)', 'SileroVAD', { model: 'legacy' }],
    [
      'EnergyVAD (-45 dB, 500 ms hangover)',
      'EnergyVAD',
      { threshold_db: -45, hangover_ms: 500, emit_audio: false },
    ],
  ];
  const lines = [
    '### VAD boundaries on the same speech',
    '',
    `Two espeak-ng utterances joined by sox with 1.0 s, 1.5 s and 1.0 s of silence; truth from the utterances' audible samples. Errors in ms (detected - truth).`,
    '',
    '| detector | utterance 1 start / end | utterance 2 start / end | events |',
    '| --- | --- | --- | ---: |',
  ];
  for (const [name, node_type, params] of detectors) {
    const outputs = await runner.executeBatch(
      {
        version: 'v1',
        metadata: { name },
        nodes: [{ id: 'vad', node_type, params }],
        connections: [],
      },
      chunks,
    );
    const events = outputs.filter((o) => o.kind === 'event');
    const error = (i: number, truth: number) =>
      events[i] ? `${Math.round((events[i]!.timestampUs! / 1e6 - truth) * 1000)}` : 'missing';
    const [a, b] = fixture.truth as [
      { start: number; end: number },
      { start: number; end: number },
    ];
    lines.push(
      `| ${name} | ${error(0, a.start)} / ${error(1, a.end)} | ${error(2, b.start)} / ${error(3, b.end)} | ${events.length} |`,
    );
  }
  return lines.join('\n');
}

/** A detector's pass over the whole fixture. */
type Pass = () => Promise<unknown>;

/**
 * vad-web's v5 path without a microphone: its own Silero model class and
 * FrameProcessor on 512-sample frames, as MicVAD wires them for model 'v5'
 * (NonRealTimeVAD runs the legacy model only).
 */
async function vadWebV5(dist: string, samples: Float32Array): Promise<Pass> {
  const ort = require('onnxruntime-web') as typeof Ort;
  ort.env.wasm.numThreads = 1;
  const { Silero } = require('@ricky0123/vad-web/dist/models') as {
    Silero: { new: (ort: unknown, fetcher: () => Promise<ArrayBuffer>) => Promise<VadWebModel> };
  };
  const { FrameProcessor, defaultFrameProcessorOptions } =
    require('@ricky0123/vad-web/dist/frame-processor') as {
      FrameProcessor: new (
        process: VadWebModel['process'],
        reset: () => void,
        options: unknown,
        msPerFrame: number,
      ) => VadWebFrameProcessor;
      defaultFrameProcessorOptions: unknown;
    };
  const model = await Silero.new(
    ort,
    async () => readFileSync(join(dist, 'silero_vad_v5.onnx')).buffer as ArrayBuffer,
  );
  return async () => {
    model.reset_state();
    const processor = new FrameProcessor(
      model.process,
      model.reset_state,
      defaultFrameProcessorOptions,
      512 / 16,
    );
    processor.resume();
    const events: unknown[] = [];
    for (let at = 0; at + 512 <= samples.length; at += 512) {
      await processor.process(samples.subarray(at, at + 512), (e) => events.push(e));
    }
    processor.endSegment((e) => events.push(e));
  };
}

interface VadWebModel {
  process: (frame: Float32Array) => Promise<{ isSpeech: number }>;
  reset_state: () => void;
}
interface VadWebFrameProcessor {
  resume(): void;
  process(frame: Float32Array, handle: (event: unknown) => void): Promise<void>;
  endSegment(handle: (event: unknown) => void): unknown;
}

export async function benchSileroVad(): Promise<BenchSection> {
  const fixture = makeSpeechFixture(undefined, undefined, 16000);
  const { wav } = fixture;
  const seconds = wav.samples.length / 16000;

  const { NonRealTimeVAD } = require('@ricky0123/vad-web') as typeof import('@ricky0123/vad-web');
  const dist = join(dirname(require.resolve('@ricky0123/vad-web/package.json')), 'dist');
  const theirsLegacy = await NonRealTimeVAD.new({
    modelFetcher: async () =>
      readFileSync(join(dist, 'silero_vad_legacy.onnx')).buffer as ArrayBuffer,
    ortConfig: (ort) => {
      ort.env.wasm.numThreads = 1;
    },
  });
  const vadWebLegacy: Pass = async () => {
    for await (const _ of theirsLegacy.run(wav.samples, 16000)) {
      // segments are produced and dropped
    }
  };

  const runner = new PipelineRunner({ nodes: [createSileroVad(nodeSileroAssets)] });
  const chunks: RuntimeData[] = [];
  for (let at = 0; at < wav.samples.length; at += 320) {
    chunks.push(RuntimeData.audio(wav.samples.subarray(at, at + 320), 16000));
  }
  const sessions: StreamSession[] = [];
  const ours = async (model: 'v5' | 'legacy'): Promise<Pass> => {
    const session: StreamSession = await runner.createStreamSession({
      version: 'v1',
      metadata: { name: 'bench' },
      nodes: [{ id: 'vad', node_type: 'SileroVAD', params: { model } }],
      connections: [],
    });
    sessions.push(session);
    return async () => {
      const reading = (async () => {
        for (;;) {
          const out = await session.recvOutput();
          if (out?.data.kind === 'control') return;
        }
      })();
      for (const chunk of chunks) await session.sendInput(chunk);
      await session.sendInput(RuntimeData.control('flush'));
      await reading;
    };
  };

  // Model frames per pass: legacy 1536 samples, v5 512 (at 16 kHz).
  const detectors: { name: string; frame: number; pass: Pass; times: number[] }[] = [
    { name: 'vad-web NonRealTimeVAD, legacy model', frame: 1536, pass: vadWebLegacy, times: [] },
    { name: 'SileroVAD node, legacy model', frame: 1536, pass: await ours('legacy'), times: [] },
    {
      name: 'vad-web Silero + FrameProcessor, v5 model',
      frame: 512,
      pass: await vadWebV5(dist, wav.samples),
      times: [],
    },
    { name: 'SileroVAD node, v5 model', frame: 512, pass: await ours('v5'), times: [] },
  ];
  // Round-robin, so a change in the shared machine's load falls on all alike; timed
  // by this process's CPU time (onnxruntime runs one thread here, on this one), as
  // the wall clock on a shared machine also counts waiting for a core.
  for (const d of detectors) await d.pass(); // warm-up
  for (let i = 0; i < PASSES; i++) {
    for (const d of detectors) {
      const started = process.cpuUsage();
      await d.pass();
      const used = process.cpuUsage(started);
      d.times.push((used.user + used.system) / 1000);
    }
  }
  for (const session of sessions) await session.close();

  const table = (baseline: (typeof detectors)[number], mine: (typeof detectors)[number]) => {
    const base = median(baseline.times).p50;
    const row = (d: (typeof detectors)[number], suffix: string): BenchRow => {
      const { p50, p99 } = median(d.times);
      const frames = Math.floor(wav.samples.length / d.frame);
      return {
        name: `${d.name}${suffix}: ${(seconds / (p50 / 1000)).toFixed(0)}x real time, ${(frames / (p50 / 1000)).toFixed(0)} frames/s`,
        p50,
        p99,
        samples: d.times.length,
        ratio: p50 / base,
      };
    };
    return [row(baseline, ' (baseline)'), row(mine, '')];
  };
  const [legacyTheirs, legacyOurs, v5Theirs, v5Ours] = detectors as [
    (typeof detectors)[number],
    (typeof detectors)[number],
    (typeof detectors)[number],
    (typeof detectors)[number],
  ];
  const unit = `per pass over ${seconds.toFixed(1)} s of espeak-ng speech at 16 kHz (CPU time of the process, median of ${PASSES}, worst as p99; the four detectors in turn in each round; load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(', ')})`;
  return {
    title: 'Silero VAD (Node, onnxruntime-web wasm, 1 thread)',
    extra: await accuracyMarkdown(runner, fixture),
    tables: [
      {
        unit: `${unit}, legacy model (1536-sample frames)`,
        rows: table(legacyTheirs, legacyOurs),
      },
      {
        unit: `${unit}, v5 model (512-sample frames)`,
        rows: table(v5Theirs, v5Ours),
        note: 'Goal: at least 50x real time. Command: `npm run bench silero`.',
      },
    ],
  };
}
