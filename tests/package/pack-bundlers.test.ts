import { copyFileSync, cpSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Browser } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSpeechFixture } from '../audio/speech-fixture.ts';
import { launchChromium } from '../chromium.ts';
import { type PackedProject, packedProject } from './packed-project.ts';
import { serveStatic } from './static-server.ts';

/**
 * The tarball as a user installs it, in a project outside the repository, built by
 * each bundler the docs name (docs/embedding.md): Vite with the remotemedia-web/vite
 * plugin and without it, webpack 5, esbuild (with the prebuilt build) and no
 * bundler (the prebuilt folder served as it is). Each app (tests/package/
 * bundler-apps/) runs, in Debian's Chromium, speech through Resample -> SileroVAD,
 * a PythonNode, and a node of its own (my-nodes.js, imported by the pipeline
 * worker) that reports the global scope it ran in, and opens the playback sink
 * (both AudioWorklets). Every build is served by a plain static server with
 * COOP/COEP only.
 */
const APPS = join(import.meta.dirname, 'bundler-apps');

/** How each app is built: the steps docs/embedding.md gives, run in the project. */
const builds = {
  vite: {
    out: 'vite/dist',
    steps: 'cd vite && npx vite build --logLevel warn && cp ../speech.wav dist/',
  },
  'vite without the plugin': {
    out: 'vite-plain/dist',
    steps:
      'cd vite-plain && mkdir -p public && cp -r ../node_modules/remotemedia-web/dist/browser public/remotemedia-web && cp ../speech.wav public/ && npx vite build --logLevel warn',
  },
  webpack: {
    out: 'webpack/dist',
    steps:
      'cd webpack && npx webpack && cp index.html ../speech.wav dist/ && cp -r ../node_modules/remotemedia-web/dist/browser dist/remotemedia-web',
  },
  esbuild: {
    out: 'esbuild/out',
    steps:
      'cd esbuild && npx esbuild main.js --bundle --format=esm --outdir=out --log-level=warning && cp -r ../node_modules/remotemedia-web/dist/browser out/remotemedia-web && cp index.html ../my-nodes.js ../speech.wav out/',
  },
  'no bundler': {
    out: 'static',
    steps:
      'cd static && cp ../checks.js ../my-nodes.js ../speech.wav . && cp -r ../node_modules/remotemedia-web/dist/browser remotemedia-web',
  },
} as const;

let project: PackedProject;
let browser: Browser;

beforeAll(async () => {
  project = await packedProject({
    name: 'remotemedia-bundler-apps',
    dependencies: ['vite@^8.3.8', 'webpack@^5.113.0', 'webpack-cli@^7', 'esbuild@^0.28.2'],
  });
  cpSync(APPS, project.dir, { recursive: true });
  const speech = makeSpeechFixture(undefined, undefined, 48000);
  copyFileSync(speech.path, join(project.dir, 'speech.wav'));
  rmSync(dirname(speech.path), { recursive: true, force: true });
  browser = await launchChromium();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  // The project holds four bundlers' node_modules: deleting it takes a while.
  project?.remove();
}, 120_000);

interface AppResult {
  error?: string;
  crossOriginIsolated: boolean;
  pageScope: string;
  /** The playback context's state once its worklets loaded. */
  worklets: string;
  events: string[];
  segments: { rate: number; ms: number }[];
  mine: { nodeId: string; input: number; scope: string }[];
}

describe('the packed tarball in a project of its own, per bundler', () => {
  for (const [name, build] of Object.entries(builds)) {
    it(`${name}: Resample, SileroVAD, a PythonNode and its own node in the pipeline worker, cross-origin isolated, all from its own origin`, async () => {
      const built = await project.run('sh', ['-c', build.steps]);
      expect(built.status, built.stderr).toBe(0);
      const server = await serveStatic(join(project.dir, build.out));
      const page = await browser.newPage();
      const offOrigin: string[] = [];
      page.on('request', (request) => {
        // blob: is the page's own memory (the snapshot's gunzip worker), not the network.
        const url = request.url();
        if (!url.startsWith(server.url) && !url.startsWith('blob:')) offOrigin.push(url);
      });
      try {
        await page.goto(server.url);
        await page.waitForFunction(
          () => document.getElementById('result')?.textContent,
          undefined,
          {
            timeout: 90_000,
          },
        );
        const result = JSON.parse((await page.textContent('#result'))!) as AppResult;
        expect(result.error).toBeUndefined();
        expect(result.crossOriginIsolated).toBe(true);
        expect(result.worklets).toBe('running');
        // Two espeak-ng sentences: two segments of 16 kHz audio, each framed by events.
        expect(result.events).toEqual(['speech_start', 'speech_end', 'speech_start', 'speech_end']);
        expect(result.segments.map((s) => s.rate)).toEqual([16000, 16000]);
        for (const segment of result.segments) expect(segment.ms).toBeGreaterThan(1500);
        // Python multiplied, then the app's own node ran off the main thread.
        expect(result.pageScope).toBe('Window');
        expect(result.mine).toEqual(
          [10, 20, 30].map((input) => ({
            nodeId: 'where',
            input,
            scope: 'DedicatedWorkerGlobalScope',
          })),
        );
        expect(offOrigin).toEqual([]);
        const missing = server.requests.filter(
          (r) => r.status !== 200 && r.path !== '/favicon.ico',
        );
        expect(missing).toEqual([]);
      } finally {
        await page.close();
        await server.close();
      }
    }, 180_000);
  }

  it('ships the prebuilt folder complete: the runtime, its workers and worklets, Pyodide and its snapshot, onnxruntime, the models, flite and PocketSphinx', () => {
    const listing = readFileSync(
      join(project.dir, 'node_modules/remotemedia-web/package.json'),
      'utf8',
    );
    expect(JSON.parse(listing).exports['./browser']).toBeDefined();
    const folder = join(project.dir, 'node_modules/remotemedia-web/dist/browser');
    const files = readdirSync(folder, { recursive: true, encoding: 'utf8' })
      .filter((file) => statSync(join(folder, file)).isFile())
      .sort();
    expect(files).toEqual(
      [
        'audio-capture.worklet.js',
        'audio-playback.worklet.js',
        'flite/flite.wasm',
        'ort/ort-wasm-simd-threaded.wasm',
        'ort/ort.wasm.bundle.min.mjs',
        'pipeline-worker.js',
        'pocketsphinx/LICENSE',
        'pocketsphinx/model/cmudict-en-us.dict',
        'pocketsphinx/model/en-us.lm.bin',
        ...[
          'README',
          'feat.params',
          'mdef',
          'means',
          'noisedict',
          'sendump',
          'transition_matrices',
          'variances',
        ].map((name) => `pocketsphinx/model/en-us/${name}`),
        'pocketsphinx/pocketsphinx.mjs',
        'pocketsphinx/pocketsphinx.wasm',
        'pyodide/pyodide-lock.json',
        'pyodide/pyodide.asm.mjs',
        'pyodide/pyodide.asm.wasm',
        'pyodide/pyodide.mjs',
        'pyodide/python_stdlib.zip',
        'python-worker.js',
        'python/remotemedia.snapshot',
        'remotemedia-web.js',
        'silero/silero_vad_legacy.onnx',
        'silero/silero_vad_v5.onnx',
      ].sort(),
    );
  });
});
