import { existsSync, readFileSync, statSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { TWIN } from '../../scripts/precache-gzip.ts';

/**
 * What the demo's service worker precaches for offline (the manifest injected in
 * dist-app/service-worker.js, built by `npm run build`): large assets as their
 * gzip'd twins, the Python snapshot gzip'd, and the whole within its budget.
 */
const DIR = 'dist-app';
/** The offline payload measured before the Python snapshot came (33.0 MB = 31.5 MiB): no larger now. */
const BUDGET = 33_012_708;
/** TextToSpeech's flite engine: cached on first use by the service worker, never precached. */
const ON_FIRST_USE = 'remotemedia-web/flite/';

function precached(): { url: string; bytes: number }[] {
  const worker = readFileSync(`${DIR}/service-worker.js`, 'utf8');
  return [...worker.matchAll(/"url":"([^"]+)"/g)].map(([, url]) => ({
    url: url!,
    bytes: statSync(`${DIR}/${url}`).size,
  }));
}

describe('the PWA precache', () => {
  if (!existsSync(`${DIR}/service-worker.js`))
    throw new Error('dist-app is missing: run "npm run build" first');
  const entries = precached();
  const urls = new Set(entries.map((e) => e.url));

  it('holds the Python snapshot, gzip\u2019d', () => {
    const snapshot = entries.find((e) => e.url === 'remotemedia-web/python/remotemedia.snapshot');
    expect(snapshot).toBeDefined();
    const bytes = readFileSync(`${DIR}/${snapshot!.url}`);
    expect([bytes[0], bytes[1]]).toEqual([0x1f, 0x8b]);
    expect(gunzipSync(bytes).length).toBeGreaterThan(4 * bytes.length);
  });

  it('keeps large assets that gzip well as their twins, never both, and each twin is its file', () => {
    for (const { url, bytes } of entries) {
      if (url.endsWith(TWIN)) {
        const plain = url.slice(0, -TWIN.length);
        expect(urls.has(plain), plain).toBe(false);
        expect(
          gunzipSync(readFileSync(`${DIR}/${url}`)).equals(readFileSync(`${DIR}/${plain}`)),
        ).toBe(true);
      } else if (url.startsWith('remotemedia-web/') && bytes >= 256 << 10) {
        // Kept plain: gzip would save under a fifth (zip, onnx weights, the snapshot).
        expect(gzipSync(readFileSync(`${DIR}/${url}`)).length, url).toBeGreaterThan(bytes * 0.8);
      }
    }
    expect([...urls].filter((u) => u.endsWith(TWIN)).length).toBeGreaterThanOrEqual(3);
  });

  it('fits the offline budget; flite, cached on first use, is not in it', () => {
    const total = entries.reduce((sum, e) => sum + e.bytes, 0);
    console.log(
      `precache: ${entries.length} files, ${(total / 1e6).toFixed(1)} MB (budget ${(BUDGET / 1e6).toFixed(1)} MB)`,
    );
    expect(entries.filter((e) => e.url.startsWith(ON_FIRST_USE))).toEqual([]);
    expect(existsSync(`${DIR}/${ON_FIRST_USE}flite.wasm${TWIN}`)).toBe(true);
    expect(total).toBeLessThanOrEqual(BUDGET);
  });
});
