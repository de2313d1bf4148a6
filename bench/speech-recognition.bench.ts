/**
 * Recognition real-time factor: PocketSphinx compiled to WASM in Chromium
 * (bench/browser/speech-recognition.ts: the engine called directly, and the
 * SpeechToText node around it) against the native PocketSphinx called directly
 * (Debian's python3-pocketsphinx, bench/pocketsphinx_native.py) on the same 16-bit
 * PCM in the same 100 ms pieces, in the same run. Audio: espeak-ng speech made here
 * (tests/audio/espeak-speech.ts) — the gateway tests' 24 commands in 4 voices with
 * the command grammar, and their 6 dictation sentences with the language model.
 * Times are per second of audio (so p50 / 1000 is the real-time factor).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'vite';
import { speak, speechCorpus } from '../tests/audio/espeak-speech.ts';
import { launchChromium } from '../tests/chromium.ts';
import type { BenchRow, BenchSection, BenchTable } from './report.ts';

const ROUNDS = 3; // the first is a warm-up, dropped on both sides

interface Run {
  ms: number;
  hyp: string;
}
interface PageResult {
  loadMs: number;
  initMs: number;
  direct: Run[][];
  node: Run[][];
}

function pcm16(samples: Float32Array): Int16Array {
  return Int16Array.from(samples, (x) => Math.round(Math.max(-1, Math.min(1, x)) * 32767));
}

function percentiles(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    p50: sorted[Math.floor(sorted.length * 0.5)]!,
    p99: sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]!,
  };
}

/** ms of decoding per second of audio, for each utterance of the timed rounds. */
function perSecond(rounds: Run[][], seconds: number[]): number[] {
  return rounds.slice(1).flatMap((runs) => runs.map((r, i) => r.ms / seconds[i]!));
}

/** Word-level edit distance (substitutions + insertions + deletions), as the gateway tests'. */
function wordErrors(reference: string, hypothesis: string): number {
  const ref = reference.split(' ').filter(Boolean);
  const hyp = hypothesis.split(' ').filter(Boolean);
  let row = Array.from({ length: hyp.length + 1 }, (_, j) => j);
  ref.forEach((r, i) => {
    const next = [i + 1];
    hyp.forEach((h, j) =>
      next.push(Math.min(row[j + 1]! + 1, next[j]! + 1, row[j]! + (r === h ? 0 : 1))),
    );
    row = next;
  });
  return row[hyp.length]!;
}

function native(grammar: string | null, files: string[]): { initMs: number; rounds: Run[][] } {
  const out = execFileSync('/usr/bin/python3', ['bench/pocketsphinx_native.py'], {
    input: JSON.stringify({ grammar, files, rounds: ROUNDS }),
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  const parsed = JSON.parse(out) as { init_ms: number; rounds: Run[][] };
  return { initMs: parsed.init_ms, rounds: parsed.rounds };
}

export async function benchSpeechRecognition(): Promise<BenchSection> {
  const load = loadavg()
    .map((l) => l.toFixed(1))
    .join(', ');
  const corpus = speechCorpus();
  const dir = mkdtempSync(join(tmpdir(), 'rm-stt-bench-'));
  const server = await createServer({ server: { port: 0 }, logLevel: 'silent' });
  await server.listen();
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    page.on('pageerror', (error) => console.error(`speech-recognition page: ${error.message}`));
    await page.goto(`${server.resolvedUrls!.local[0]}bench/browser/speech-recognition.html`);
    await page.waitForFunction(() => 'runRecognitionBench' in window);
    const modes = [
      {
        name: 'commands with the grammar',
        grammar: corpus.grammar,
        phrases: corpus.voices.flatMap((voice) => corpus.commands.map((text) => ({ text, voice }))),
      },
      {
        name: 'dictation with the language model',
        grammar: null,
        phrases: corpus.dictation.map((text) => ({ text, voice: 'en-us' })),
      },
    ];
    const tables: BenchTable[] = [];
    for (const mode of modes) {
      const audio = mode.phrases.map((p) => pcm16(speak(p.text, p.voice, 0.2)));
      const seconds = audio.map((a) => a.length / 16000);
      const files = audio.map((a, i) => {
        const file = join(dir, `${mode.grammar ? 'g' : 'd'}-${i}.raw`);
        writeFileSync(file, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
        return file;
      });
      console.error(`speech-recognition: ${mode.name}: native`);
      const base = native(mode.grammar, files);
      console.error(`speech-recognition: ${mode.name}: Chromium`);
      const evaluate = () =>
        page.evaluate(
          (input) =>
            (
              window as unknown as { runRecognitionBench: (i: unknown) => Promise<unknown> }
            ).runRecognitionBench(input),
          {
            grammar: mode.grammar,
            utterances: audio.map((a) =>
              Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64'),
            ),
            rounds: ROUNDS,
          },
        ) as Promise<PageResult>;
      // The dev server reloads the page when it first bundles a dependency: try again.
      let browserRun: PageResult | undefined;
      for (let attempt = 0; browserRun === undefined; attempt++) {
        try {
          browserRun = await evaluate();
        } catch (error) {
          if (attempt >= 3 || !String(error).includes('Execution context was destroyed'))
            throw error;
          await page.waitForFunction(() => 'runRecognitionBench' in window);
        }
      }
      const series: [string, number[]][] = [
        [
          'native PocketSphinx, python3-pocketsphinx decoder called directly (baseline)',
          perSecond(base.rounds, seconds),
        ],
        [
          'PocketSphinx WASM in Chromium, engine called directly',
          perSecond(browserRun.direct, seconds),
        ],
        ['SpeechToText node in Chromium (PocketSphinx WASM)', perSecond(browserRun.node, seconds)],
      ];
      const baseP50 = percentiles(series[0]![1]).p50;
      const rows: BenchRow[] = series.map(([name, values]) => {
        const { p50, p99 } = percentiles(values);
        return { name, p50, p99, samples: values.length, ratio: p50 / baseP50 };
      });
      const same = base.rounds[1]!.filter((r, i) => r.hyp === browserRun.direct[1]![i]!.hyp).length;
      const heard = browserRun.node[1]!.map((r) => r.hyp);
      const words = mode.phrases.reduce((n, p) => n + p.text.split(' ').length, 0);
      const errors = mode.phrases.reduce((n, p, i) => n + wordErrors(p.text, heard[i]!), 0);
      const exact = mode.phrases.filter((p, i) => p.text === heard[i]).length;
      const audioS = seconds.reduce((a, b) => a + b, 0);
      tables.push({
        unit: `ms of decoding per second of audio, ${mode.name} (${mode.phrases.length} utterances, ${audioS.toFixed(1)} s of audio, ${ROUNDS - 1} timed rounds; p50 / 1000 = real-time factor)`,
        rows,
        note: `Hypotheses identical between native and WASM: ${same} of ${audio.length}; the node heard ${exact} of ${audio.length} exactly, word error rate ${((100 * errors) / words).toFixed(0)}% (${errors} of ${words} words). Set-up: native decoder ${base.initMs.toFixed(0)} ms; in Chromium the first use (fetch module, wasm and model from the dev server, compile, model into the module's file system, decoder) ${browserRun.loadMs.toFixed(0)} ms, a second decoder in the loaded module ${browserRun.initMs.toFixed(0)} ms.`,
      });
    }
    return {
      title: 'Speech recognition: PocketSphinx WASM in Chromium vs native',
      extra: `Load average at the start of this section: ${load} (2 cores, shared with other jobs). Native runs first, then Chromium, per mode (a load change between them moves the ratio); in Chromium the engine and the node take turns on each utterance. The WASM engine runs on the page's thread here; in an app it runs in the pipeline worker (the same code).`,
      tables,
    };
  } finally {
    await browser.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
