/**
 * The demo's precache, compressed: the runtime's large assets that gzip well
 * (Pyodide's and onnxruntime's wasm, flite's, Pyodide's JS) get a gzip'd twin in
 * the build (`<file>.precache-gz`), the service worker precaches the twin instead
 * and serves the file from it, decompressed (workers/service-worker.ts). Not
 * `.gz`: servers that see one add Content-Encoding: gzip, and the cache would
 * then keep the twin decompressed. Offline needs half the room,
 * and the Python snapshot fits beside it. The server still has the plain files
 * for visits the service worker does not control yet.
 */
import { gzipSync } from 'node:zlib';
import type { ManifestTransform } from 'workbox-build';
import type { Plugin } from 'vite';

/** Assets smaller than this, or that gzip saves under a fifth of, stay as they are. */
const MIN_BYTES = 256 << 10;
const MIN_SAVING = 0.2;
/** The twin's suffix; workers/service-worker.ts names it too. */
export const TWIN = '.precache-gz';

/**
 * `onFirstUse`: sub-folders of `folder` the service worker caches on first use, always
 * through the twin (it cannot tell which files have one), so every file there gets one.
 */
export function precacheGzip(folder: string, onFirstUse: readonly string[] = []): Plugin {
  return {
    name: 'remotemedia:precache-gzip',
    apply: 'build',
    enforce: 'post',
    generateBundle(_options, bundle) {
      for (const [fileName, output] of Object.entries(bundle)) {
        if (output.type !== 'asset' || !fileName.startsWith(`${folder}/`)) continue;
        if (fileName.endsWith(TWIN)) continue;
        const always = onFirstUse.some((sub) => fileName.startsWith(`${folder}/${sub}`));
        const source =
          typeof output.source === 'string' ? Buffer.from(output.source) : output.source;
        if (source.length < MIN_BYTES && !always) continue;
        const gzipped = gzipSync(source); // level 6: level 9 saves 0.1% for 2.5x the time
        if (gzipped.length > source.length * (1 - MIN_SAVING) && !always) continue;
        this.emitFile({ type: 'asset', fileName: `${fileName}${TWIN}`, source: gzipped });
      }
    },
  };
}

/** The precache without the plain files that have a twin in it. */
export const dropGzipTwins: ManifestTransform = (entries) => {
  const urls = new Set(entries.map((entry) => entry.url));
  return { manifest: entries.filter((entry) => !urls.has(`${entry.url}${TWIN}`)), warnings: [] };
};
