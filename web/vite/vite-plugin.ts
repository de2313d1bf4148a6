/**
 * The Vite plugin an app that embeds RemoteMedia Web needs (`remotemedia-web/vite`):
 * - it serves and ships the runtime's assets from the app's own origin (Pyodide's
 *   files under `pyodide/`, the Silero models under `silero/`; onnxruntime's wasm and
 *   our AssemblyScript wasm are emitted by Vite with the workers that import them);
 * - it sets the cross-origin isolation headers SharedArrayBuffer needs on the dev
 *   and preview servers;
 * - it resolves `remotemedia-web` to its TypeScript sources (the `remotemedia-source`
 *   export condition), so the app's own build bundles the runtime's workers and
 *   worklets next to its code, under its base.
 * Nothing is fetched from a CDN: offline works.
 */
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { defaultClientConditions, type Plugin, searchForWorkspaceRoot } from 'vite';

/** COOP/COEP: SharedArrayBuffer and Atomics.wait need a cross-origin isolated page. */
export const crossOriginIsolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/** What Pyodide loads from beside its indexURL. */
const PYODIDE_FILES = [
  'pyodide.asm.mjs',
  'pyodide.asm.wasm',
  'python_stdlib.zip',
  'pyodide-lock.json',
];
const SILERO_MODELS = ['silero_vad_v5.onnx', 'silero_vad_legacy.onnx'];

const require = createRequire(import.meta.url);
/** This package's root: web/vite/ (sources) or dist/web/vite/ (built) inside it. */
const PACKAGE_ROOT = dirname(require.resolve('remotemedia-web/package.json'));
const packageDir = (name: string) => dirname(require.resolve(`${name}/package.json`));

function assetFiles(): Map<string, string> {
  const files = new Map<string, string>();
  const pyodide = packageDir('pyodide');
  for (const name of PYODIDE_FILES) files.set(`pyodide/${name}`, join(pyodide, name));
  const vad = join(packageDir('@ricky0123/vad-web'), 'dist');
  for (const name of SILERO_MODELS) files.set(`silero/${name}`, join(vad, name));
  return files;
}

export function remotemediaWeb(): Plugin {
  const files = assetFiles();
  let base = '/';
  return {
    name: 'remotemedia:web',
    config: (config) => ({
      server: {
        headers: crossOriginIsolationHeaders,
        // The runtime's sources may sit outside the app (a linked package).
        fs: { allow: [searchForWorkspaceRoot(config.root ?? process.cwd()), PACKAGE_ROOT] },
      },
      preview: { headers: crossOriginIsolationHeaders },
      resolve: { conditions: ['remotemedia-source', ...defaultClientConditions] },
      worker: { format: 'es' },
      // onnxruntime-web and Pyodide find their wasm beside their own modules; the
      // runtime's workers are found beside its sources.
      optimizeDeps: { exclude: ['onnxruntime-web', 'pyodide', 'remotemedia-web'] },
    }),
    configResolved(config) {
      base = config.base;
    },
    configureServer(server) {
      // In development the assets are read from node_modules at the built paths.
      server.middlewares.use((request, response, next) => {
        const path = request.url?.split('?')[0] ?? '';
        const file = path.startsWith(base) ? files.get(path.slice(base.length)) : undefined;
        if (!file || !existsSync(file)) return next();
        response.setHeader('Content-Type', contentType(file));
        for (const [k, v] of Object.entries(crossOriginIsolationHeaders)) response.setHeader(k, v);
        createReadStream(file).pipe(response);
      });
    },
    generateBundle() {
      for (const [fileName, file] of files) {
        this.emitFile({ type: 'asset', fileName, source: readFileSync(file) });
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
