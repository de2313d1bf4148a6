/**
 * The voice loop's voice-to-voice latency in Chromium (bench/browser/voice-loop.ts):
 * a spoken command ("what time is it", espeak-ng with a noise floor) fed in real time
 * through Resample -> SileroVAD -> SpeechToText (a real gateway on loopback) -> a
 * Python reply (Pyodide) -> TextToSpeech -> the speaker; from the last audible
 * sample of the utterance to the reply's first synthesized chunk at the speaker
 * (plus the page's reported audio output latency). Baseline: SileroVAD's default
 * end-of-speech wait (redemption 500 ms) in the same run; then the studio preset's
 * turn-taking settings (200 ms), with synthesis in the browser (flite) and on the
 * gateway (espeak-ng). Also browser TextToSpeech (flite in the pipeline worker)
 * time to first audio and real-time factor against the espeak-ng command line.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'vite';
import { startGateway } from '../remote-gateway/gateway.ts';
import { decodeWav } from '../web/core/wav-codec.ts';
import { launchChromium } from '../tests/chromium.ts';
import type { BenchRow, BenchSection } from './report.ts';

const TURNS = 6;

function percentiles(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    p50: sorted[Math.floor(sorted.length * 0.5)]!,
    p99: sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]!,
  };
}

/** "what time is it" at 16 kHz: 0.5 s before, 1.5 s after, a -50 dBFS noise floor. */
function spokenCommand(): { samples: Float32Array; audibleEnd: number } {
  const dir = mkdtempSync(join(tmpdir(), 'rm-voice-bench-'));
  const speech = join(dir, 'speech.wav');
  execFileSync('espeak-ng', ['-v', 'en-us', '-w', speech, 'what time is it']);
  const padded = join(dir, 'padded.wav');
  execFileSync('sox', [speech, '-r', '16000', '-b', '16', padded, 'pad', '0.5', '1.5']);
  // The audible end, before the noise is added: last sample above -60 dBFS.
  const clean = decodeWav(readFileSync(padded)).samples;
  let audibleEnd = clean.length;
  while (audibleEnd > 0 && Math.abs(clean[audibleEnd - 1]!) < 1e-3) audibleEnd--;
  const noise = join(dir, 'noise.wav');
  execFileSync('sox', [padded, noise, 'synth', 'whitenoise', 'vol', '0.003']);
  const out = join(dir, 'turn.wav');
  execFileSync('sox', ['-m', padded, noise, '-b', '16', out]);
  return { samples: decodeWav(readFileSync(out)).samples, audibleEnd };
}

/** espeak-ng's command line: ms to its first bytes of audio, and in all. */
function espeakOnce(
  sentence: string,
): Promise<{ firstMs: number; totalMs: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('espeak-ng', ['-v', 'en-us', '--stdout', sentence]);
    let firstMs: number | undefined;
    let bytes = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      firstMs ??= performance.now() - started;
      bytes += chunk.length;
    });
    child.on('error', reject);
    child.on('close', () =>
      resolve({ firstMs: firstMs!, totalMs: performance.now() - started, bytes }),
    );
  });
}

interface PageResults {
  results: Record<string, { latencyMs: number[]; heard: string[] }>;
  outputLatencyMs: number;
  ttsRuns: Record<'kal16' | 'slt', { firstMs: number; totalMs: number; audioS: number }[]>;
  sentence: string;
}

export async function benchVoiceLoop(): Promise<BenchSection> {
  const token = 'voice-loop-bench-token-0123';
  const gateway = await startGateway({ port: 0, tokens: [token], allowedOrigins: ['*'] });
  const server = await createServer({ server: { port: 0 }, logLevel: 'silent' });
  await server.listen();
  const browser = await launchChromium();
  const load = loadavg()
    .map((l) => l.toFixed(1))
    .join(', ');
  try {
    const { samples, audibleEnd } = spokenCommand();
    const page = await browser.newPage();
    await page.goto(`${server.resolvedUrls!.local[0]}bench/browser/voice-loop.html`);
    await page.waitForFunction(() => 'runVoiceLoopBench' in window);
    const configs = [
      {
        name: 'SileroVAD defaults (redemption 500 ms), flite in the browser (baseline)',
        vad: { redemption_ms: 500, min_speech_ms: 250, pre_speech_pad_ms: 100 },
      },
      { name: 'turn-taking VAD (redemption 200 ms), flite in the browser', vad: {} },
      { name: 'turn-taking VAD, espeak-ng on the gateway', vad: {}, ttsOnGateway: true },
    ];
    const run = () =>
      page.evaluate(
        (input) =>
          (
            window as unknown as { runVoiceLoopBench: (i: unknown) => Promise<unknown> }
          ).runVoiceLoopBench(input),
        {
          samples: Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength).toString(
            'base64',
          ),
          audibleEnd,
          gateway: { host: '127.0.0.1', port: gateway.port },
          token,
          turns: TURNS,
          configs,
          bargeIn: process.env.VOICE_LOOP_BARGE_IN === '1',
        },
      ) as Promise<PageResults>;
    // The dev server reloads the page when it first bundles a dependency (the
    // worker's, the Python worker's): try again on the reloaded page.
    let page_: PageResults | undefined;
    for (let attempt = 0; page_ === undefined; attempt++) {
      try {
        page_ = await run();
      } catch (error) {
        if (attempt >= 3 || !String(error).includes('Execution context was destroyed')) throw error;
        await page.waitForFunction(() => 'runVoiceLoopBench' in window);
      }
    }
    const loopRows: BenchRow[] = [];
    let base = 0;
    for (const config of configs) {
      const { latencyMs, heard } = page_.results[config.name]!;
      const wrong = heard.filter((h) => h !== 'what time is it').length;
      const { p50, p99 } = percentiles(latencyMs);
      base ||= p50;
      loopRows.push({
        name: `${config.name}${wrong ? ` (${wrong} of ${heard.length} misheard)` : ''}`,
        p50,
        p99,
        samples: latencyMs.length,
        ratio: p50 / base,
      });
    }
    // TTS: espeak-ng command line (baseline) then flite in the pipeline worker.
    const espeak: { firstMs: number; totalMs: number; audioS: number }[] = [];
    await espeakOnce(page_.sentence);
    for (let r = 0; r < 5; r++) {
      const run = await espeakOnce(page_.sentence);
      espeak.push({ ...run, audioS: (run.bytes - 44) / 2 / 22050 });
    }
    const ttsRow = (
      name: string,
      runs: typeof espeak,
      pick: (r: (typeof espeak)[0]) => number,
      baseline?: number,
    ): BenchRow => {
      const { p50, p99 } = percentiles(runs.map(pick));
      return { name, p50, p99, samples: runs.length, ratio: baseline ? p50 / baseline : 1 };
    };
    const firstBase = ttsRow('', espeak, (r) => r.firstMs).p50;
    const rtf = (runs: typeof espeak) =>
      percentiles(runs.map((r) => r.totalMs / 1000 / r.audioS)).p50;
    return {
      title: 'Voice loop: voice-to-voice latency (Chromium + gateway)',
      extra: `Load average at the start of this section: ${load} (2 cores, shared with other jobs). The loop's fixed costs: SileroVAD waits redemption_ms of quiet before it ends a turn (200 ms here, 500 ms by default), then recognition of the whole segment on the gateway, the reply in Pyodide, and synthesis of the reply's first sentence.`,
      tables: [
        {
          unit: `ms from the last audible sample of "what time is it" (fed in real time, 20 ms blocks) to the reply's first synthesized chunk at the speaker, + ${page_.outputLatencyMs.toFixed(0)} ms audio output latency reported by the page; ${TURNS} turns each after a warm-up`,
          rows: loopRows,
          note: `Goal: at most 500 ms. SpeechToText runs on the gateway (PocketSphinx, the command grammar); the reply in Pyodide.`,
        },
        {
          unit: `ms to the first audio of "${page_.sentence}" (one sentence, one engine call)`,
          rows: [
            ttsRow('espeak-ng --stdout, command line (baseline)', espeak, (r) => r.firstMs),
            ttsRow(
              'TextToSpeech flite voice kal16 (the default), pipeline worker (Chromium)',
              page_.ttsRuns.kal16,
              (r) => r.firstMs,
              firstBase,
            ),
            ttsRow(
              'TextToSpeech flite voice slt, pipeline worker (Chromium)',
              page_.ttsRuns.slt,
              (r) => r.firstMs,
              firstBase,
            ),
          ],
          note: `Real-time factor (synthesis time / audio time, p50): espeak-ng CLI ${rtf(espeak).toFixed(3)}, flite kal16 ${rtf(page_.ttsRuns.kal16).toFixed(3)}, slt ${rtf(page_.ttsRuns.slt).toFixed(3)} in the browser (${page_.ttsRuns.kal16[0]?.audioS.toFixed(2)} s of audio; espeak-ng's includes its process start).`,
        },
      ],
    };
  } finally {
    await browser.close();
    await server.close();
    await gateway.close();
  }
}
