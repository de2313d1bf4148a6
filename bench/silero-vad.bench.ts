/**
 * SileroVAD against @ricky0123/vad-web's own NonRealTimeVAD on the same espeak-ng
 * speech, both on onnxruntime-web's Node build, in the same run. Model loading is
 * outside the timing; each figure is the median of several passes over the audio.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
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

async function timePasses(pass: () => Promise<unknown>): Promise<number[]> {
  await pass(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < PASSES; i++) {
    const started = performance.now();
    await pass();
    times.push(performance.now() - started);
  }
  return times;
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

export async function benchSileroVad(): Promise<BenchSection> {
  const fixture = makeSpeechFixture(undefined, undefined, 16000);
  const { wav } = fixture;
  const seconds = wav.samples.length / 16000;

  const { NonRealTimeVAD } = require('@ricky0123/vad-web') as typeof import('@ricky0123/vad-web');
  const dist = join(dirname(require.resolve('@ricky0123/vad-web/package.json')), 'dist');
  const theirs = await NonRealTimeVAD.new({
    modelFetcher: async () =>
      readFileSync(join(dist, 'silero_vad_legacy.onnx')).buffer as ArrayBuffer,
  });
  const baseline = await timePasses(async () => {
    for await (const _ of theirs.run(wav.samples, 16000)) {
      // segments are produced and dropped
    }
  });

  const runner = new PipelineRunner({ nodes: [createSileroVad(nodeSileroAssets)] });
  const ours = async (model: 'v5' | 'legacy') => {
    const session: StreamSession = await runner.createStreamSession({
      version: 'v1',
      metadata: { name: 'bench' },
      nodes: [{ id: 'vad', node_type: 'SileroVAD', params: { model } }],
      connections: [],
    });
    const chunks: RuntimeData[] = [];
    for (let at = 0; at < wav.samples.length; at += 320) {
      chunks.push(RuntimeData.audio(wav.samples.subarray(at, at + 320), 16000));
    }
    const times = await timePasses(async () => {
      const reading = (async () => {
        for (;;) {
          const out = await session.recvOutput();
          if (out?.data.kind === 'control') return;
        }
      })();
      for (const chunk of chunks) await session.sendInput(chunk);
      await session.sendInput(RuntimeData.control('flush'));
      await reading;
    });
    await session.close();
    return times;
  };
  const v5 = await ours('v5');
  const legacy = await ours('legacy');

  const base = median(baseline).p50;
  const row = (name: string, times: number[]): BenchRow => {
    const { p50, p99 } = median(times);
    return {
      name: `${name}: ${(seconds / (p50 / 1000)).toFixed(0)}x real time`,
      p50,
      p99,
      samples: times.length,
      ratio: p50 / base,
    };
  };
  return {
    title: 'Silero VAD (Node, onnxruntime-web wasm, 1 thread)',
    extra: await accuracyMarkdown(runner, fixture),
    tables: [
      {
        unit: `per pass over ${seconds.toFixed(1)} s of espeak-ng speech at 16 kHz (median of ${PASSES}, worst as p99)`,
        rows: [
          row('vad-web NonRealTimeVAD, legacy model (baseline)', baseline),
          row('SileroVAD node, legacy model', legacy),
          row('SileroVAD node, v5 model', v5),
        ],
        note: 'Goal: at least 50x real time.',
      },
    ],
  };
}
