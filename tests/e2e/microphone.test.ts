import type { Browser } from 'playwright';
import { createServer, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSpeechFixture } from '../audio/speech-fixture.ts';
import { launchChromium } from '../chromium.ts';
import type { MicrophoneResult } from './pages/microphone.ts';

/**
 * getUserMedia for real: Chromium's fake capture device plays espeak-ng speech
 * (generated now), the page's capture AudioWorklet writes it into a ring, and a
 * pipeline worker node reads it. Needs its own Chromium, started with the file.
 */
let server: ViteDevServer;
let browser: Browser;
let url: string;

beforeAll(async () => {
  const fixture = makeSpeechFixture();
  server = await createServer({ server: { port: 0, host: '127.0.0.1' }, logLevel: 'silent' });
  await server.listen();
  url = `${server.resolvedUrls!.local[0]!}tests/e2e/pages/microphone.html`;
  browser = await launchChromium([
    '--use-fake-ui-for-media-stream',
    '--use-fake-device-for-media-stream',
    `--use-file-for-fake-audio-capture=${fixture.path}`,
  ]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('the microphone, end to end', () => {
  it('delivers the right amount of audio through the AudioWorklet and a ring into a worker node', async () => {
    const page = await browser.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') console.error(m.text());
    });
    await page.goto(url);
    await page.waitForFunction(() => 'runMicrophone' in globalThis, undefined, { timeout: 30_000 });
    const result = await page.evaluate(
      (seconds) =>
        (
          globalThis as unknown as { runMicrophone(s: number): Promise<MicrophoneResult> }
        ).runMicrophone(seconds),
      3,
    );
    console.log('microphone:', JSON.stringify(result));
    expect(result.direct).toBe(true);
    // Every sample the worklet wrote reached the worker node; none dropped.
    expect(result.dropped).toBe(0);
    expect(result.received).toBe(result.written);
    // About as much audio as the wall-clock time it ran (device start-up aside).
    const expected = result.seconds * result.sampleRate;
    expect(result.received).toBeGreaterThan(0.8 * expected);
    expect(result.received).toBeLessThan(1.1 * expected);
    // It is the speech from the file, not silence.
    expect(result.events).toContain('speech_start');
    await page.close();
  }, 60_000);
});
