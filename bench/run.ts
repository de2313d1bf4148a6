/**
 * `npm run bench [-- names...]`: runs every benchmark (or the named ones: core,
 * audio, resample, rings, runtime, silero, python, gateway, voice-loop, speech-recognition), prints the tables and updates docs/BENCHMARKS.md.
 */
import { benchAudioKernels } from './audio-kernels.bench.ts';
import { benchCorePipeline } from './core-pipeline.bench.ts';
import { type BenchSection, printSection, writeSection } from './report.ts';
import { benchGateway } from './gateway.bench.ts';
import { benchPython } from './python.bench.ts';
import { benchResamplePeers } from './resample-peers.bench.ts';
import { benchRings } from './rings.bench.ts';
import { benchRuntime } from './runtime.bench.ts';
import { benchSileroVad } from './silero-vad.bench.ts';
import { benchSpeechRecognition } from './speech-recognition.bench.ts';
import { benchVoiceLoop } from './voice-loop.bench.ts';

const benchmarks: Record<string, () => Promise<BenchSection>> = {
  core: benchCorePipeline,
  audio: benchAudioKernels,
  resample: benchResamplePeers,
  rings: benchRings,
  runtime: benchRuntime,
  silero: benchSileroVad,
  python: benchPython,
  gateway: benchGateway,
  'voice-loop': benchVoiceLoop,
  'speech-recognition': benchSpeechRecognition,
};

const wanted = process.argv.slice(2);
for (const name of wanted) {
  if (!(name in benchmarks)) {
    throw new Error(`unknown benchmark '${name}'; known: ${Object.keys(benchmarks).join(', ')}`);
  }
}
for (const [name, run] of Object.entries(benchmarks)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  const section = await run();
  printSection(section);
  writeSection(name, section);
}

console.log('Wrote docs/BENCHMARKS.md');
