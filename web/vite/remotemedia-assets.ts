/**
 * The Vite plugin an app that runs RemoteMedia Web needs: it serves and ships the
 * runtime's assets from the app's own origin (Pyodide's files under `pyodide/`, the
 * Silero models under `silero/`; onnxruntime's wasm and our AssemblyScript wasm are
 * emitted by Vite with the workers that import them), and sets the cross-origin
 * isolation headers SharedArrayBuffer needs on the dev and preview servers. Nothing
 * is fetched from a CDN: offline works.
 */
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Plugin } from 'vite';

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
const packageDir = (name: string) => dirname(require.resolve(`${name}/package.json`));

function assetFiles(): Map<string, string> {
  const files = new Map<string, string>();
  const pyodide = packageDir('pyodide');
  for (const name of PYODIDE_FILES) files.set(`pyodide/${name}`, join(pyodide, name));
  const vad = join(packageDir('@ricky0123/vad-web'), 'dist');
  for (const name of SILERO_MODELS) files.set(`silero/${name}`, join(vad, name));
  return files;
}

export function remotemediaAssets(): Plugin {
  const files = assetFiles();
  let base = '/';
  return {
    name: 'remotemedia:assets',
    config: () => ({
      server: { headers: crossOriginIsolationHeaders },
      preview: { headers: crossOriginIsolationHeaders },
      worker: { format: 'es' },
      // onnxruntime-web and Pyodide find their wasm beside their own modules.
      optimizeDeps: { exclude: ['onnxruntime-web', 'pyodide'] },
    }),
    configResolved(config) {
      base = config.base;
    },
    configureServer(server) {
      // In development the models are read from node_modules at the built paths.
      server.middlewares.use((request, response, next) => {
        const path = request.url?.split('?')[0] ?? '';
        const file = path.startsWith(`${base}silero/`)
          ? files.get(path.slice(base.length))
          : undefined;
        if (!file || !existsSync(file)) return next();
        response.setHeader('Content-Type', 'application/octet-stream');
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
