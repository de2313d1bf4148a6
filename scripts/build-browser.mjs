// The prebuilt browser build, for pages with no bundler: dist/browser/ holds
// remotemedia-web.js (the runtime, one ES module), its workers and worklets (one
// self-contained file each) and the assets folder's files (pyodide/, ort/,
// silero/: see web/runtime/assets.ts). Serve the folder as it is (with COOP/COEP)
// and import remotemedia-web.js from it. Built from dist/ after scripts/finish-lib.mjs.
import { copyFileSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { runtimeAssetFiles } from '../dist/web/vite/vite-plugin.js';

const OUT = 'dist/browser';
rmSync(OUT, { recursive: true, force: true });

await build({
  entryPoints: {
    'remotemedia-web': 'dist/web/prebuilt.js',
    'pipeline-worker': 'dist/workers/pipeline-worker.js',
    'python-worker': 'dist/workers/python-worker.js',
  },
  outdir: OUT,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  sourcemap: false,
  logLevel: 'warning',
});
for (const name of ['audio-capture.worklet.js', 'audio-playback.worklet.js']) {
  copyFileSync(join('dist/workers', name), join(OUT, name));
}
let bytes = 0;
for (const [name, file] of runtimeAssetFiles()) {
  mkdirSync(dirname(join(OUT, name)), { recursive: true });
  copyFileSync(file, join(OUT, name));
  bytes += statSync(file).size;
}
const size = (file) => `${(statSync(join(OUT, file)).size / 1024).toFixed(0)} KiB`;
console.log(
  `browser: ${OUT}/ remotemedia-web.js ${size('remotemedia-web.js')}, pipeline-worker.js ${size('pipeline-worker.js')}, python-worker.js ${size('python-worker.js')}, assets ${(bytes / 2 ** 20).toFixed(1)} MiB`,
);
