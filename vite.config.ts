import { readFileSync } from 'node:fs';
import { playwright } from '@vitest/browser-playwright';
import type { BrowserCommand } from 'vitest/node';
import type { Plugin } from 'vite';
import { defineConfig } from 'vitest/config';
import { makeSpeechFixture } from './tests/audio/speech-fixture.ts';
import { chromiumArgs, chromiumPath } from './tests/chromium.ts';

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

/** What Pyodide loads from beside its indexURL; the build ships them under pyodide/. */
const PYODIDE_FILES = [
  'pyodide.asm.mjs',
  'pyodide.asm.wasm',
  'python_stdlib.zip',
  'pyodide-lock.json',
];

function pyodideAssets(): Plugin {
  return {
    name: 'remotemedia:pyodide-assets',
    apply: 'build',
    generateBundle() {
      for (const name of PYODIDE_FILES) {
        this.emitFile({
          type: 'asset',
          fileName: `pyodide/${name}`,
          source: readFileSync(`node_modules/pyodide/${name}`),
        });
      }
    },
  };
}

/**
 * Cross-origin isolation (COOP/COEP) on every server we run: SharedArrayBuffer and
 * Atomics.wait need it, and the app must behave in development as it does deployed.
 */
export const crossOriginIsolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  plugins: [pyodideAssets()],
  server: { headers: crossOriginIsolationHeaders, host: '127.0.0.1' },
  preview: { headers: crossOriginIsolationHeaders, host: '127.0.0.1', port: 4173 },
  worker: { format: 'es' },
  // onnxruntime-web and Pyodide find their wasm beside their own modules
  // (import.meta.url), so they are served as they are; the rest is pre-bundled up front so that tests do not reload when a
  // worker first imports it.
  optimizeDeps: { include: ['comlink', 'zod'], exclude: ['onnxruntime-web', 'pyodide'] },
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
            'tests/e2e/**/*.test.ts',
          ],
          exclude: ['**/*.browser.test.ts', 'node_modules/**'],
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
            commands: { speechFixture, speechWav },
          },
        },
      },
    ],
  },
});
