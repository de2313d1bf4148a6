/** `npm run bench`: runs every benchmark, prints the tables and updates docs/BENCHMARKS.md. */
import { benchCorePipeline } from './core-pipeline.bench.ts';
import { printSection, writeSection } from './report.ts';

const core = await benchCorePipeline();
printSection(core);
writeSection('core', core);
console.log('Wrote docs/BENCHMARKS.md');
