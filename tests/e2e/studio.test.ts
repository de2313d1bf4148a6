import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright';
import { type PreviewServer, preview } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from '../../remote-gateway/gateway.ts';
import { chromiumArgs, chromiumPath, launchChromium } from '../chromium.ts';

/**
 * The demo's audio studio and its PWA, built as `npm start` serves them and driven
 * in Debian's Chromium: the bundled speech sample plays (at real time) through the
 * presets; the live views fill with data (screenshots in test-results/); the Python
 * node is edited while it runs; then the network is cut and it all still works.
 */
const run = promisify(execFile);
let server: PreviewServer;
let browser: Browser;
let url: string;

beforeAll(async () => {
  // REMOTEMEDIA_APP_DIR: a build of one's own (several people building dist-app at once).
  const outDir = process.env.REMOTEMEDIA_APP_DIR ?? 'dist-app';
  if (!existsSync(`${outDir}/service-worker.js`))
    throw new Error(`${outDir} is missing: run "npm run build" first`);
  server = await preview({
    build: { outDir },
    preview: { port: 0, host: '127.0.0.1' },
    logLevel: 'silent',
  });
  url = server.resolvedUrls!.local[0]!;
  browser = await launchChromium();
  mkdirSync('test-results', { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function open(context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  await page.goto(url);
  await page.waitForSelector('#studio-run:not([disabled])', { timeout: 30_000 });
  return page;
}

/**
 * Runs a preset on the bundled sample and waits for the end: played at real time
 * through the capture worklet, or decoded and sent as fast as the pipeline goes
 * (the same audio every time: what comparisons need).
 */
async function runPreset(page: Page, preset: string, realTime = true): Promise<void> {
  await page.selectOption('#input', 'sample');
  await page.setChecked('#realtime', realTime);
  await page.selectOption('#preset', preset);
  await page.evaluate(() => delete document.body.dataset.studio);
  await page.click('#studio-run');
  await page.waitForSelector('body[data-studio]', { timeout: 90_000 });
  expect(
    await page.getAttribute('body', 'data-studio'),
    (await page.textContent('#studio-status')) ?? '',
  ).toBe('done');
}

/** How many pixels of a canvas differ from its background: a view with data draws. */
function drawnPixels(page: Page, id: string): Promise<number> {
  return page.$eval(`#${id}`, (canvas) => {
    const c = canvas as HTMLCanvasElement;
    const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let drawn = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i] !== 0xf6 || data[i + 1] !== 0xf8 || data[i + 2] !== 0xfa) drawn++;
    }
    return drawn;
  });
}

describe('the audio studio (built app)', () => {
  it('segments the bundled speech sample with Silero VAD; every view has data', async () => {
    const context = await browser.newContext();
    const page = await open(context);
    await runPreset(page, 'segmenter');
    const segments = await page.$$eval('#segments li span', (spans) =>
      spans.map((s) => s.textContent),
    );
    // The sample holds two sentences with silence around and between them.
    expect(segments.length).toBeGreaterThanOrEqual(2);
    expect(await drawnPixels(page, 'waveform')).toBeGreaterThan(500);
    expect(await drawnPixels(page, 'vad')).toBeGreaterThan(500);
    const metricNodes = await page.$$eval('#metrics tbody tr', (rows) =>
      rows.map((r) => (r as HTMLElement).dataset.node),
    );
    expect(metricNodes).toEqual(expect.arrayContaining(['resample', 'vad', 'waveform']));
    expect(await page.$$eval('#graph [data-node]', (g) => g.length)).toBe(3);
    expect(await page.isEnabled('#segments li button')).toBe(true);
    await page.screenshot({ path: 'test-results/studio-segmenter.png', fullPage: true });
    await context.close();
  }, 120_000);

  it('draws the log-mel image of the DSP chain', async () => {
    const context = await browser.newContext();
    const page = await open(context);
    await runPreset(page, 'dsp', false);
    expect(await drawnPixels(page, 'logmel')).toBeGreaterThan(20_000);
    expect(await drawnPixels(page, 'waveform')).toBeGreaterThan(500);
    await page.screenshot({ path: 'test-results/studio-dsp.png', fullPage: true });
    await context.close();
  }, 120_000);

  it('the Python node, edited while it runs, changes the output without a restart', async () => {
    const context = await browser.newContext();
    const page = await open(context);
    await page.selectOption('#preset', 'python');
    await page.selectOption('#input', 'sample');
    await page.evaluate(() => delete document.body.dataset.studio);
    await page.click('#studio-run');
    await page.waitForSelector('#python-outputs li', { timeout: 90_000 });
    const source = await page.inputValue('#python-source');
    await page.fill(
      '#python-source',
      source.replace('return {"loudness_db"', 'return {"edited": True, "loudness_db"'),
    );
    await page.click('#python-apply');
    await expect.poll(() => page.textContent('#python-status')).toContain('without restarting');
    await page.waitForSelector('body[data-studio]', { timeout: 90_000 });
    const lines = await page.$$eval('#python-outputs li', (items) =>
      items.map((i) => i.textContent!),
    );
    expect(lines.some((l) => l.includes('new source'))).toBe(true);
    // One stream: outputs of the old code, then from some block on, only the new.
    const outputs = lines.filter((l) => !l.includes('new source'));
    const first = outputs.findIndex((l) => l.includes('"edited":true'));
    expect(first).toBeGreaterThan(0);
    expect(outputs.slice(first).every((l) => l.includes('"edited":true'))).toBe(true);
    await page.screenshot({ path: 'test-results/studio-python.png', fullPage: true });
    // The edited source is saved (IndexedDB) and comes back after a reload.
    await page.reload();
    await page.waitForSelector('#studio-run:not([disabled])');
    expect(await page.inputValue('#python-source')).toContain('"edited": True');
    expect(await page.inputValue('#preset')).toBe('python');
    await context.close();
  }, 150_000);
});

describe('the studio with the gateway beside it', () => {
  it('a node switched to the gateway gives the same segments as in the browser', async () => {
    const token = 'studio-gateway-token-0123';
    const gateway = await startGateway({
      port: 0,
      tokens: [token],
      allowedOrigins: [new URL(url).origin],
    });
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${url}#gateway-token=${token}`);
      await page.waitForSelector('#studio-run:not([disabled])');
      await page.fill('#gateway-address', `127.0.0.1:${gateway.port}`);
      await expect
        .poll(() => page.textContent('#gateway-status'), { timeout: 10_000 })
        .toContain('gateway up');
      await runPreset(page, 'segmenter', false);
      const inBrowser = await page.$$eval('#segments li span', (s) => s.map((e) => e.textContent));
      expect(inBrowser.length).toBeGreaterThanOrEqual(2);
      await page.check('#placement input[data-node="resample"]');
      expect(await page.isDisabled('#placement input[data-node="vad"]')).toBe(true);
      await runPreset(page, 'segmenter', false);
      const hybrid = await page.$$eval('#segments li span', (s) => s.map((e) => e.textContent));
      expect(gateway.metrics.sessionsTotal).toBe(1);
      expect(hybrid).toEqual(inBrowser);
      // The node on the gateway reports its metrics like the others.
      expect(
        await page.$$eval('#metrics tbody tr', (r) =>
          r.map((e) => (e as HTMLElement).dataset.node),
        ),
      ).toEqual(expect.arrayContaining(['resample', 'vad', 'waveform']));
      await page.screenshot({ path: 'test-results/studio-hybrid.png', fullPage: true });
    } finally {
      await context.close();
      await gateway.close();
    }
  }, 150_000);
});

describe('the studio when a pipeline cannot start', () => {
  it('says why, releases the input, and the next run works', async () => {
    const context = await browser.newContext();
    const page = await open(context);
    await page.fill('#gateway-address', '127.0.0.1:9');
    await page.selectOption('#preset', 'segmenter');
    await page.check('#placement input[data-node="resample"]');
    await page.selectOption('#input', 'sample');
    await page.setChecked('#realtime', true);
    await page.click('#studio-run');
    await page.waitForSelector('body[data-studio="failed"]', { timeout: 30_000 });
    expect(await page.textContent('#studio-status')).toContain('gateway');
    await page.uncheck('#placement input[data-node="resample"]');
    await runPreset(page, 'segmenter', false);
    expect((await page.$$('#segments li')).length).toBeGreaterThanOrEqual(2);
    await context.close();
  }, 90_000);
});

describe('the PWA', () => {
  it('meets the install criteria: a manifest with icons, a service worker in control', async () => {
    // Chromium does not offer installs in incognito contexts: a profile on disk.
    const profile = mkdtempSync(join(tmpdir(), 'remotemedia-pwa-'));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath,
      args: chromiumArgs,
    });
    try {
      const page = await open(context);
      await page.evaluate(() => navigator.serviceWorker.ready);
      const session = await context.newCDPSession(page);
      const { installabilityErrors } = (await session.send('Page.getInstallabilityErrors')) as {
        installabilityErrors: { errorId: string }[];
      };
      expect(installabilityErrors).toEqual([]);
      const manifest = await (await page.request.get(`${url}manifest.webmanifest`)).json();
      expect(manifest).toMatchObject({ display: 'standalone', name: 'RemoteMedia Web' });
    } finally {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    }
  });

  it('after one online visit, works with the network cut: segments, Python, and flite and PocketSphinx once used', async () => {
    const context = await browser.newContext();
    const page = await open(context);
    // Installed, precached and controlling this page.
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
      if (!navigator.serviceWorker.controller) {
        await new Promise((resolve) =>
          navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true }),
        );
      }
    });
    // flite (browser TextToSpeech) and PocketSphinx (browser SpeechToText, with its
    // model's files, small ones too) are not precached: their first use online keeps them.
    const ON_FIRST_USE = [
      'remotemedia-web/flite/flite.wasm',
      'remotemedia-web/pocketsphinx/pocketsphinx.wasm',
      'remotemedia-web/pocketsphinx/model/en-us/feat.params',
    ];
    const firstUseBytes = () =>
      page.evaluate(
        (paths) =>
          Promise.all(
            paths.map(async (path) => {
              const response = await fetch(path);
              const bytes = new Uint8Array(await response.arrayBuffer());
              return { ok: response.ok, length: bytes.length, magic: [...bytes.subarray(0, 4)] };
            }),
          ),
        ON_FIRST_USE,
      );
    const online = await firstUseBytes();
    const wasm = { ok: true, magic: [0, 0x61, 0x73, 0x6d] };
    expect(online).toMatchObject([wasm, wasm, { ok: true, magic: [...Buffer.from('-low')] }]);
    await context.setOffline(true);
    await page.reload();
    await page.waitForSelector('#studio-run:not([disabled])', { timeout: 30_000 });
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    expect(await page.evaluate(() => navigator.onLine)).toBe(false);
    expect(await firstUseBytes()).toEqual(online);
    await runPreset(page, 'segmenter', false);
    expect((await page.$$('#segments li')).length).toBeGreaterThanOrEqual(2);
    await runPreset(page, 'python', false);
    expect((await page.$$('#python-outputs li')).length).toBeGreaterThan(10);
    await page.screenshot({ path: 'test-results/studio-offline.png', fullPage: true });
    await context.close();
  }, 240_000);

  it('a new version installs in the background and takes over when the person accepts', async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'remotemedia-update-'));
    const buildAs = (version: string) =>
      run('npx', ['vite', 'build', '--outDir', outDir, '--emptyOutDir'], {
        // vitest sets NODE_ENV=test, which would make a development build.
        env: { ...process.env, NODE_ENV: 'production', REMOTEMEDIA_APP_VERSION: version },
      });
    await buildAs('update-1');
    const served = await preview({
      build: { outDir },
      preview: { port: 0, host: '127.0.0.1' },
      logLevel: 'silent',
    });
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(served.resolvedUrls!.local[0]!);
      await page.evaluate(async () => {
        await navigator.serviceWorker.ready;
        if (!navigator.serviceWorker.controller) {
          await new Promise((resolve) =>
            navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true }),
          );
        }
      });
      expect(await page.textContent('#version')).toBe('vupdate-1');
      await buildAs('update-2');
      await page.reload();
      // Still the installed version, until the person takes the new one.
      expect(await page.textContent('#version')).toBe('vupdate-1');
      await page.waitForSelector('#update:not([hidden])', { timeout: 60_000 });
      await Promise.all([page.waitForEvent('load'), page.click('#update button')]);
      await expect.poll(() => page.textContent('#version')).toBe('vupdate-2');
    } finally {
      await context.close();
      await served.close();
      rmSync(outDir, { recursive: true, force: true });
    }
  }, 180_000);
});

/** espeak-ng utterances with known gaps, one WAV (22.05 kHz), made with sox here. */
function spokenTurns(turns: { text: string; pauseAfterS: number }[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'rm-voice-loop-'));
  const parts: string[] = [];
  turns.forEach(({ text, pauseAfterS }, i) => {
    const speech = join(dir, `turn-${i}.wav`);
    execFileSync('espeak-ng', ['-v', 'en-us', '-w', speech, text]);
    const padded = join(dir, `padded-${i}.wav`);
    execFileSync('sox', [speech, padded, 'pad', '0.5', String(pauseAfterS)]);
    parts.push(padded);
  });
  const joined = join(dir, 'joined.wav');
  execFileSync('sox', [...parts, joined]);
  // A microphone's noise floor: PocketSphinx misjudges exact digital silence.
  const noise = join(dir, 'noise.wav');
  execFileSync('sox', [joined, noise, 'synth', 'whitenoise', 'vol', '0.003']);
  const out = join(dir, 'turns.wav');
  execFileSync('sox', ['-m', joined, noise, out]);
  return out;
}

describe('the voice loop (studio preset) with a real gateway', () => {
  it('hears the commands, answers them by voice, is interrupted by speech, keeps a transcript', async () => {
    const token = 'studio-voice-token-0123';
    const gateway = await startGateway({
      port: 0,
      tokens: [token],
      allowedOrigins: [new URL(url).origin],
    });
    const wav = spokenTurns([
      { text: 'what time is it', pauseAfterS: 3 },
      // The story takes ~15 s to say: "stop" comes 3 s into it and must cut it off.
      { text: 'tell me a story', pauseAfterS: 4 },
      { text: 'stop', pauseAfterS: 3 },
    ]);
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${url}#gateway-token=${token}`);
      await page.waitForSelector('#studio-run:not([disabled])');
      await page.fill('#gateway-address', `127.0.0.1:${gateway.port}`);
      await page.selectOption('#preset', 'voice');
      // SpeechToText runs in the browser by default (PocketSphinx WASM); switched here
      // to the gateway's (the test below runs the loop with no gateway at all).
      expect(await page.isChecked('#placement input[data-node="stt"]')).toBe(false);
      expect(await page.isDisabled('#placement input[data-node="stt"]')).toBe(false);
      await page.setChecked('#placement input[data-node="stt"]', true);
      expect(await page.isDisabled('#placement input[data-node="speaker"]')).toBe(true);
      await page.selectOption('#input', 'file');
      await page.setInputFiles('#file', wav);
      // First as fast as it goes: Pyodide, flite and the gateway's recogniser warm up
      // (and the metrics table fills in that mode too); then the timed run.
      await page.setChecked('#realtime', false);
      await page.evaluate(() => delete document.body.dataset.studio);
      await page.click('#studio-run');
      await page.waitForSelector('body[data-studio]', { timeout: 120_000 });
      expect(await page.getAttribute('body', 'data-studio')).toBe('done');
      expect(await page.$$('#metrics tbody tr')).not.toHaveLength(0);
      await page.setChecked('#realtime', true);
      await page.evaluate(() => delete document.body.dataset.studio);
      await page.click('#studio-run');
      await page.waitForSelector('body[data-studio]', { timeout: 120_000 });
      expect(
        await page.getAttribute('body', 'data-studio'),
        (await page.textContent('#studio-status')) ?? '',
      ).toBe('done');
      const lines = await page.$$eval('#transcript li', (items) =>
        items.map((i) => ({
          who: (i as HTMLElement).dataset.who,
          time: i.querySelector('time')!.textContent!,
          text: i.querySelector('span')!.textContent!,
        })),
      );
      const said = (who: string) => lines.filter((l) => l.who === who).map((l) => l.text);
      const all = JSON.stringify(lines);
      expect(said('user'), all).toEqual(['🗣 what time is it', '🗣 tell me a story', '🗣 stop']);
      expect(said('reply')[0]).toMatch(/^🔊 It is \d\d \d\d\.$/);
      expect(said('reply')[1]).toContain('Once upon a time');
      expect(said('reply')[2]).toBe('🔊 Okay.');
      // Each line is stamped, and the user's turns in the order they were spoken.
      const userTimes = lines.filter((l) => l.who === 'user').map((l) => parseFloat(l.time));
      expect(userTimes).toEqual([...userTimes].sort((a, b) => a - b));
      expect(userTimes[0]).toBeGreaterThan(0.3);
      // "stop" came while the story played: barge-in cut it off.
      expect(
        said('event').some((t) => t.startsWith('barge-in')),
        all,
      ).toBe(true);
      // The metrics hold every node, the one on the gateway too.
      const nodes = await page.$$eval('#metrics tbody tr', (r) =>
        r.map((e) => (e as HTMLElement).dataset.node),
      );
      expect(nodes).toEqual(expect.arrayContaining(['vad', 'stt', 'reply', 'tts', 'speaker']));
      await page.screenshot({ path: 'test-results/studio-voice-loop.png', fullPage: true });
    } finally {
      await context.close();
      await gateway.close();
    }
  }, 240_000);
});

describe('the voice loop with no gateway (SpeechToText and TextToSpeech in the browser)', () => {
  it('hears the commands and answers them by voice', async () => {
    const wav = spokenTurns([
      { text: 'what time is it', pauseAfterS: 3 },
      { text: 'stop', pauseAfterS: 3 },
    ]);
    const context = await browser.newContext();
    try {
      const page = await open(context);
      await page.selectOption('#preset', 'voice');
      await page.selectOption('#input', 'file');
      await page.setInputFiles('#file', wav);
      await page.setChecked('#realtime', false);
      // No gateway address or token: every node runs in the page and its workers.
      await page.evaluate(() => delete document.body.dataset.studio);
      await page.click('#studio-run');
      await page.waitForSelector('body[data-studio]', { timeout: 120_000 });
      expect(
        await page.getAttribute('body', 'data-studio'),
        (await page.textContent('#studio-status')) ?? '',
      ).toBe('done');
      const lines = await page.$$eval('#transcript li', (items) =>
        items.map((i) => ({
          who: (i as HTMLElement).dataset.who,
          text: i.querySelector('span')!.textContent!,
        })),
      );
      const said = (who: string) => lines.filter((l) => l.who === who).map((l) => l.text);
      expect(said('user'), JSON.stringify(lines)).toEqual(['🗣 what time is it', '🗣 stop']);
      expect(said('reply')[0]).toMatch(/^🔊 It is \d\d \d\d\.$/);
      expect(said('reply')[1]).toBe('🔊 Okay.');
    } finally {
      await context.close();
    }
  }, 240_000);
});

describe('the studio reads like a product', () => {
  it('metrics fill in the as-fast-as-possible mode; the plots have time axes', async () => {
    const context = await browser.newContext();
    const page = await open(context);
    await runPreset(page, 'segmenter', false);
    const nodes = await page.$$eval('#metrics tbody tr', (r) =>
      r.map((e) => (e as HTMLElement).dataset.node),
    );
    expect(nodes).toEqual(expect.arrayContaining(['resample', 'vad', 'waveform']));
    const ticks = await page.$$eval('.time-axis[data-for="waveform"] span', (s) =>
      s.map((e) => e.textContent),
    );
    expect(ticks.slice(0, 3)).toEqual(['0 s', '2 s', '4 s']);
    await context.close();
  }, 120_000);

  it('a Python traceback keeps its line breaks and is cleared on the next run', async () => {
    const context = await browser.newContext();
    const page = await open(context);
    await page.selectOption('#preset', 'python');
    const source = await page.inputValue('#python-source');
    await page.fill(
      '#python-source',
      source.replace('samples = data.samples', 'raise ValueError("broken on purpose")'),
    );
    await page.selectOption('#input', 'sample');
    await page.setChecked('#realtime', false);
    await page.evaluate(() => delete document.body.dataset.studio);
    await page.click('#studio-run');
    await page.waitForSelector('body[data-studio="failed"]', { timeout: 90_000 });
    const shown = await page.$eval('#studio-status', (p) => ({
      text: (p as HTMLElement).innerText,
      whiteSpace: getComputedStyle(p).whiteSpace,
    }));
    expect(shown.text).toContain('Traceback');
    expect(shown.text).toContain('ValueError: broken on purpose');
    expect(shown.text.split('\n').length).toBeGreaterThan(3);
    expect(shown.whiteSpace).toBe('pre-wrap');
    await page.fill('#python-source', source);
    await runPreset(page, 'python', false);
    expect(await page.textContent('#studio-status')).not.toContain('Traceback');
    await context.close();
  }, 150_000);

  it('with no gateway configured nothing polls /healthz', async () => {
    const context = await browser.newContext();
    const polls: string[] = [];
    context.on('request', (request) => {
      if (request.url().includes('/healthz')) polls.push(request.url());
    });
    const page = await open(context);
    // Longer than the old 3 s poll interval.
    await page.waitForTimeout(4000);
    expect(polls).toEqual([]);
    expect(await page.textContent('#gateway-status')).toContain('no gateway configured');
    // A token configures one: it is checked at once (and nothing answers here).
    await page.fill('#gateway-address', '127.0.0.1:9');
    await page.fill('#gateway-token', 'some-token');
    await page.dispatchEvent('#gateway-token', 'change');
    await expect.poll(() => page.textContent('#gateway-status')).toContain('no gateway at');
    expect(polls.length).toBeGreaterThanOrEqual(1);
    await context.close();
  }, 60_000);

  it('fits a 390 px wide screen: no horizontal overflow in any preset', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await open(context);
    for (const preset of ['segmenter', 'dsp', 'python', 'voice']) {
      await page.selectOption('#preset', preset);
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      expect(width, preset).toBeLessThanOrEqual(390);
      await page.screenshot({ path: `test-results/studio-390-${preset}.png`, fullPage: true });
    }
    await context.close();
  }, 60_000);
});
