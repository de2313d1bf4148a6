/** `npm run bench`: runs every benchmark, prints the tables and updates docs/BENCHMARKS.md. */
import { benchAudioKernels, resampleQualityMarkdown } from './audio-kernels.bench.ts';
import { benchCorePipeline } from './core-pipeline.bench.ts';
import { printSection, writeSection } from './report.ts';
import { benchRings } from './rings.bench.ts';
import { benchSileroVad } from './silero-vad.bench.ts';

const core = await benchCorePipeline();
printSection(core);
writeSection('core', core);

const audio = { ...(await benchAudioKernels()), extra: await resampleQualityMarkdown() };
printSection(audio);
writeSection('audio', audio);

const rings = await benchRings();
printSection(rings);
writeSection('rings', rings);

const silero = await benchSileroVad();
printSection(silero);
writeSection('silero', silero);

console.log('Wrote docs/BENCHMARKS.md');
