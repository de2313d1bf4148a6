/**
 * SileroVAD against @ricky0123/vad-web's own NonRealTimeVAD on the same espeak-ng
 * speech, both on onnxruntime-web's Node build, in the same run. Model loading is
 * outside the timing; each figure is the median of several passes over the audio.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { PipelineRunner, RuntimeData, type StreamSession } from '../web/core/index.ts';
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

export async function benchSileroVad(): Promise<BenchSection> {
  const { wav } = makeSpeechFixture(undefined, undefined, 16000);
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
