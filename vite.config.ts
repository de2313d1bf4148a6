import { readFileSync } from 'node:fs';
import { playwright } from '@vitest/browser-playwright';
import type { BrowserCommand } from 'vitest/node';
import { defineConfig } from 'vitest/config';
import { speakBase64, speechCorpus } from './tests/audio/espeak-speech.ts';
import { makeSpeechFixture } from './tests/audio/speech-fixture.ts';
import { chromiumArgs, chromiumPath } from './tests/chromium.ts';
import { gatewayFleetCommands } from './tests/browser/gateway-cluster-commands.ts';
import { VitePWA, type VitePWAOptions } from 'vite-plugin-pwa';
import { dropGzipTwins, precacheGzip } from './scripts/precache-gzip.ts';
import { ASSETS_DIR, remotemediaWeb } from './web/vite/vite-plugin.ts';

/** Assets folders cached on first use, not precached (workers/service-worker.ts names them too). */
const ON_FIRST_USE = ['flite/', 'pocketsphinx/'];

/** The demo as a PWA: manifest, and a service worker precaching every asset. */
const pwaOptions: Partial<VitePWAOptions> = {
  strategies: 'injectManifest',
  srcDir: 'workers',
  filename: 'service-worker.ts',
  injectRegister: false, // web/app/service-worker-registration.ts
  manifest: {
    name: 'RemoteMedia Web',
    short_name: 'RemoteMedia',
    description: 'Real-time media and ML pipelines in the browser, offline.',
    start_url: '.',
    scope: '.',
    display: 'standalone',
    background_color: '#f4f6fa',
    theme_color: '#2f6fde',
    icons: [
      { src: 'icons/icon-192.png', sizes: '192x192', type: 'image/png' },
      { src: 'icons/icon-512.png', sizes: '512x512', type: 'image/png' },
      { src: 'icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
    ],
  },
  injectManifest: {
    globPatterns: ['**/*.{html,js,mjs,css,wasm,json,zip,onnx,wav,snapshot,precache-gz}'],
    // The voice loop's engines are cached when first used (service-worker.ts), not with
    // every install: TextToSpeech's flite (21.5 MB, 14.7 gzip'd) and SpeechToText's
    // PocketSphinx with its en-us model (37 MB; a grammar page fetches 5 MB gzip'd of it).
    globIgnores: ['**/node_modules/**', ...ON_FIRST_USE.map((sub) => `${ASSETS_DIR}/${sub}**`)],
    // Pyodide's wasm is 9.6 MB and onnxruntime's 14 MB: precache them too, as their
    // gzip'd twins where there is one (scripts/precache-gzip.ts).
    maximumFileSizeToCacheInBytes: 32 << 20,
    manifestTransforms: [dropGzipTwins],
  },
};

/**
 * Runs on the test server for browser tests: real speech from espeak-ng (see
 * tests/audio/speech-fixture.ts), sent as base64 float32 with its truth.
 */
const speechFixture: BrowserCommand<[rate?: number]> = (_context, rate = 16000) => {
  const { wav, truth } = makeSpeechFixture(undefined, undefined, rate);
  const bytes = Buffer.from(wav.samples.buffer, wav.samples.byteOffset, wav.samples.byteLength);
  return { samples: bytes.toString('base64'), sampleRate: wav.sampleRate, truth };
};

/** The same speech as a WAV file's bytes (base64), for decodeAudioData and file sources. */
const speechWav: BrowserCommand<[rate?: number]> = (_context, rate = 16000) => {
  const { path, wav, truth } = makeSpeechFixture(undefined, undefined, rate);
  return { wav: readFileSync(path).toString('base64'), sampleRate: wav.sampleRate, truth };
};

/** One phrase of espeak-ng speech, 16 kHz float32 as base64 (tests/audio/espeak-speech.ts). */
const speak: BrowserCommand<[text: string, voice?: string, padS?: number]> = (
  _context,
  text,
  voice,
  padS,
) => speakBase64(text, voice, padS);

/** Shown in the page; a build may name itself (the update test builds two versions). */
const appVersion = process.env.REMOTEMEDIA_APP_VERSION ?? packageVersion();

function packageVersion(): string {
  return (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
}

export default defineConfig({
  define: { __APP_VERSION__: JSON.stringify(appVersion) },
  // Pyodide and the Silero models served and shipped from our origin, COOP/COEP set;
  // the demo is an installable app that works offline.
  plugins: [remotemediaWeb(), precacheGzip(ASSETS_DIR, ON_FIRST_USE), VitePWA(pwaOptions)],
  publicDir: 'web/app/public',
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1', port: 4173 },
  // Pre-bundled up front so that tests do not reload when a worker first imports them.
  // Pyodide and onnxruntime-web find their files beside their own modules (tests load them so).
  // idb-keyval and workbox-window: the demo's, found by the scan of index.html; listed
  // so that a fresh clone's first browser test is not reloaded by their discovery.
  optimizeDeps: {
    include: ['comlink', 'zod', 'idb-keyval', 'workbox-window'],
    exclude: ['pyodide', 'onnxruntime-web'],
  },
  build: { outDir: 'dist-app', target: 'es2022' },
  test: {
    // Real models, real Chromium and real audio take seconds on a busy machine; a
    // timeout is a hang detector here, never a speed check (benchmarks do that).
    testTimeout: 30_000,
    reporters: ['default', './tests/summary-reporter.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          environment: 'node',
          include: [
            'web/**/*.test.ts',
            'remote-gateway/**/*.test.ts',
            'tests/node/**/*.test.ts',
            'tests/docs/**/*.test.ts',
            'tests/package/**/*.test.ts',
          ],
          exclude: ['**/*.browser.test.ts', 'node_modules/**'],
        },
      },
      {
        // End-to-end runs play audio in real time (fake capture device, Silero in a
        // worker, speech out): they run after the other projects, one file at a time,
        // so no other suite takes the CPU their real-time paths need.
        extends: true,
        test: {
          name: 'e2e',
          environment: 'node',
          include: ['tests/e2e/**/*.test.ts'],
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          include: ['web/**/*.browser.test.ts', 'tests/browser/**/*.test.ts'],
          globalSetup: ['tests/browser/gateway-setup.ts'],
          browser: {
            enabled: true,
            headless: true,
            provider: playwright({
              launchOptions: { executablePath: chromiumPath, args: chromiumArgs },
            }),
            instances: [{ browser: 'chromium' }],
            commands: { speechFixture, speechWav, speak, speechCorpus, ...gatewayFleetCommands },
          },
        },
      },
    ],
  },
});
