import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
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
/**
 * The voice loop's engines, cached on first use by the service worker, never precached:
 * TextToSpeech's flite and SpeechToText's PocketSphinx with its model (each file as its twin).
 */
const ON_FIRST_USE = ['remotemedia-web/flite/', 'remotemedia-web/pocketsphinx/'];
const onFirstUse = (url: string) => ON_FIRST_USE.some((folder) => url.startsWith(folder));

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
    // Format 2 leaves the heap's zero pages out: about 15 MB raw, 6.4 MB gzip'd.
    expect(gunzipSync(bytes).length).toBeGreaterThan(2 * bytes.length);
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

  it('fits the offline budget; flite and PocketSphinx, cached on first use, are not in it', () => {
    const total = entries.reduce((sum, e) => sum + e.bytes, 0);
    console.log(
      `precache: ${entries.length} files, ${(total / 1e6).toFixed(1)} MB (budget ${(BUDGET / 1e6).toFixed(1)} MB)`,
    );
    expect(entries.filter((e) => onFirstUse(e.url))).toEqual([]);
    expect(total).toBeLessThanOrEqual(BUDGET);
  });

  it('gives every file cached on first use its twin (the service worker fetches only twins there)', () => {
    const files = readdirSync(DIR, { recursive: true, encoding: 'utf8' }).filter(
      (file) => onFirstUse(file) && !file.endsWith(TWIN) && statSync(`${DIR}/${file}`).isFile(),
    );
    for (const file of ['flite/flite.wasm', 'pocketsphinx/pocketsphinx.wasm']) {
      expect(files).toContain(`remotemedia-web/${file}`);
    }
    expect(files).toContain('remotemedia-web/pocketsphinx/model/en-us.lm.bin');
    for (const file of files) {
      expect(existsSync(`${DIR}/${file}${TWIN}`), file).toBe(true);
      expect(
        gunzipSync(readFileSync(`${DIR}/${file}${TWIN}`)).equals(readFileSync(`${DIR}/${file}`)),
        file,
      ).toBe(true);
    }
  });
});
