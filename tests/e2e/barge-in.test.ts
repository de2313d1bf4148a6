import { randomBytes } from 'node:crypto';
import type { Browser } from 'playwright';
import { createServer, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Gateway, startGateway } from '../../remote-gateway/gateway.ts';
import { mintGatewayToken } from '../../remote-gateway/gateway-tokens.ts';
import { makeSpeechFixture, type SpeechFixture } from '../audio/speech-fixture.ts';
import { launchChromium } from '../chromium.ts';
import type { BargeInResult } from './pages/barge-in.ts';

/**
 * Barge-in in real Chromium: the fake capture device plays 3 s of silence, then
 * espeak-ng speech (made now), while a long reply synthesized on a real gateway
 * (TextToSpeech, espeak-ng under CPython) plays through the page's AudioWorklet.
 * The manifest's `bargeIn` alone makes EnergyVAD's speech_start (pipeline worker)
 * stop the speaker and cancel the synthesis. The latency is read in the audio
 * clock (the worklet's record of the microphone ring at the quantum that went
 * silent), so a loaded machine slows the test, not its measure.
 */
const RATE = 16_000;
const MIN_SPEECH_MS = 100; // the page's EnergyVAD setting
let server: ViteDevServer;
let browser: Browser;
let gateway: Gateway;
let token: string;
let url: string;
let fixture: SpeechFixture;

beforeAll(async () => {
  fixture = makeSpeechFixture(['Stop, stop, please stop talking now.'], [3.0, 3.0], RATE);
  const tokenSecret = randomBytes(32).toString('base64url');
  gateway = await startGateway({ port: 0, tokenSecret, allowedOrigins: ['*'] });
  token = await mintGatewayToken(tokenSecret, { nodeTypes: ['TextToSpeech'] }, { expiresIn: '1h' });
  server = await createServer({ server: { port: 0, host: '127.0.0.1' }, logLevel: 'silent' });
  await server.listen();
  url = `${server.resolvedUrls!.local[0]!}tests/e2e/pages/barge-in.html`;
  browser = await launchChromium([
    '--use-fake-ui-for-media-stream',
    '--use-fake-device-for-media-stream',
    `--use-file-for-fake-audio-capture=${fixture.path}`,
  ]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await gateway?.close();
});

describe('barge-in, end to end', () => {
  it('speech during a long reply stops playback within 50 ms of speech_start and cancels the synthesis', async () => {
    const page = await browser.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') console.error(m.text());
    });
    page.on('pageerror', (error) => console.error(error));
    await page.goto(url);
    await page.waitForFunction(() => 'runBargeIn' in globalThis, undefined, { timeout: 30_000 });
    const result = await page.evaluate(
      (gatewayInfo) =>
        (
          globalThis as unknown as {
            runBargeIn(g: { port: number; token: string }): Promise<BargeInResult>;
          }
        ).runBargeIn(gatewayInfo),
      { port: gateway.port, token },
    );
    await page.close();
    const { drops } = result;
    // speech_start is known once min_speech_ms of speech was heard: from then on,
    // in microphone samples, to the quantum at which the speaker went silent.
    const knownAt = (result.speechStarts[0]! / 1e6) * RATE + (MIN_SPEECH_MS / 1000) * RATE;
    const latencyMs = ((drops.firstClockAtDrop - knownAt) / RATE) * 1000;
    console.log(
      'barge-in:',
      JSON.stringify({ ...result, latencyMs: Math.round(latencyMs * 10) / 10, knownAt }),
      'cancels:',
      JSON.stringify(gateway.python.cancels),
    );
    expect(result.ringDirect).toBe(true);
    expect(result.micDropped).toBe(0); // the microphone ring's count is the audio clock
    // The speech in the file was found where it is (3 s of silence first).
    // (The device starts the file a little before the page reads it: earlier, not later.)
    expect(result.speechStarts[0]! / 1e6).toBeGreaterThan(fixture.truth[0]!.start - 1);
    expect(result.speechStarts[0]! / 1e6).toBeLessThan(fixture.truth[0]!.start + 0.3);
    // It came while the reply was playing, and left some of it unplayed.
    expect(result.interrupts).toBeGreaterThanOrEqual(1);
    expect(drops.done).toBe(drops.requested);
    expect(drops.droppedSamples).toBeGreaterThan(RATE); // over a second of reply was queued
    // Playing up to the first drop, silent from that quantum on (nothing played after).
    expect(drops.playedUntil).toBeGreaterThan(drops.firstFrameAtDrop - 4 * 128);
    expect(drops.playedUntil).toBeLessThanOrEqual(drops.firstFrameAtDrop);
    expect(latencyMs).toBeGreaterThanOrEqual(0);
    expect(latencyMs).toBeLessThanOrEqual(50);
    // The synthesis was cancelled on the gateway: the runner answered the cancel and
    // stopped the call, and no chunk reached the speaker after the interrupt.
    expect(gateway.python.cancels.answered).toBeGreaterThanOrEqual(1);
    expect(gateway.python.cancels.callsStopped).toBeGreaterThanOrEqual(1);
    expect(result.chunksAfterInterrupt).toBe(0);
  }, 90_000);
});
