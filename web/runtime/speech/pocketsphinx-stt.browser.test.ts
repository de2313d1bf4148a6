/**
 * SpeechToText on PocketSphinx compiled to WASM, in real Chromium, on espeak-ng
 * speech made on the test server (tests/audio/espeak-speech.ts, vite.config.ts's
 * `speak` command) — the same phrases, voices and grammar as the gateway's
 * CPython tests. The engine's module, wasm and model come from the runtime's
 * assets folder (`pocketsphinx/`), as in an app. The node runs here on the page
 * through the core's PipelineRunner (the engine class and the seam), and once
 * through createRuntime in the pipeline worker.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { commands } from 'vitest/browser';
import {
  type Manifest,
  PipelineRunner,
  RemoteMediaError,
  RuntimeData,
} from '../../core/internal.ts';
import { resolveAssetsBase } from '../assets.ts';
import { createRuntime } from '../runtime.ts';
import { POCKETSPHINX, pocketSphinxEngine } from './pocketsphinx-stt.ts';
import type { Recognizer, RecognizerFactory } from './speech-recognizer.ts';
import { createSpeechToText } from './speech-to-text-node.ts';

declare module 'vitest/browser' {
  interface BrowserCommands {
    speak(text: string, voice?: string, padS?: number): Promise<string>;
    speechCorpus(): Promise<{
      grammar: string;
      commands: string[];
      voices: string[];
      dictation: string[];
    }>;
  }
}

const pocketsphinx = pocketSphinxEngine(() => ({
  base: `${resolveAssetsBase(undefined)}pocketsphinx/`,
}));

async function speech(text: string, voice = 'en-us', padS = 0.2): Promise<Float32Array> {
  const bytes = Uint8Array.from(atob(await commands.speak(text, voice, padS)), (c) =>
    c.charCodeAt(0),
  );
  return new Float32Array(bytes.buffer);
}

function recognise(params: Record<string, unknown>): Manifest {
  return {
    version: 'v1',
    metadata: { name: 'stt' },
    nodes: [{ id: 'stt', node_type: 'SpeechToText', params }],
    connections: [],
  };
}

interface TranscriptPayload {
  text: string;
  start_us: number;
  end_us: number;
  words: { word: string; start_us: number; end_us: number }[];
  mode: string;
}

const transcripts = (outputs: RuntimeData[]) =>
  outputs.flatMap((d) =>
    d.kind === 'event' && d.name === 'transcript'
      ? [d.payload as unknown as TranscriptPayload]
      : [],
  );
const texts = (outputs: RuntimeData[]) =>
  outputs.flatMap((d) => (d.kind === 'text' ? [d.text] : []));

/** Word-level edit distance (substitutions + insertions + deletions), as the gateway's. */
function wordErrors(reference: string, hypothesis: string): number {
  const ref = reference.split(/\s+/).filter(Boolean);
  const hyp = hypothesis.split(/\s+/).filter(Boolean);
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

describe('SpeechToText with PocketSphinx (WASM) on the page', async () => {
  const corpus = await commands.speechCorpus();
  const runner = new PipelineRunner({
    nodes: [createSpeechToText({ engines: { [POCKETSPHINX]: pocketsphinx } })],
  });

  it(`spoken commands with the grammar: at least 95% exact over 20+ phrases in 3+ voices`, async () => {
    expect(corpus.commands.length).toBeGreaterThanOrEqual(20);
    expect(corpus.voices.length).toBeGreaterThanOrEqual(3);
    const cases = corpus.voices.flatMap((voice) =>
      corpus.commands.map((phrase) => ({ voice, phrase })),
    );
    const audio = await Promise.all(cases.map((c) => speech(c.phrase, c.voice)));
    const outputs = await runner.executeBatch(
      recognise({ grammar: corpus.grammar }),
      audio.map((a) => RuntimeData.audio(a, 16000, 1)),
    );
    const heard = transcripts(outputs).map((t) => t.text);
    expect(heard.length).toBe(cases.length); // one transcript event per utterance
    const wrong = cases.flatMap((c, i) =>
      heard[i] === c.phrase ? [] : [{ ...c, heard: heard[i] }],
    );
    const exact = (cases.length - wrong.length) / cases.length;
    console.log(
      `commands (browser, pocketsphinx wasm): ${cases.length - wrong.length}/${cases.length} exact (${(exact * 100).toFixed(1)}%) in ${corpus.voices.length} voices; wrong: ${JSON.stringify(wrong)}`,
    );
    expect(exact, JSON.stringify(wrong)).toBeGreaterThanOrEqual(0.95);
  }, 180_000);

  it('keywords: the phrase spoken is found, its words timed inside the utterance, partials first', async () => {
    // Half a second of silence, in a frame stamped 2 s: the speech begins near 2.5 s.
    const audio = await speech('turn on the light', 'en-us', 0.5);
    const outputs = await runner.executeBatch(
      recognise({ keywords: ['Turn on the light', 'stop'], partials: true }),
      [RuntimeData.audio(audio, 16000, 1, 2_000_000)],
    );
    expect(texts(outputs)).toEqual(['turn on the light']);
    const final = transcripts(outputs)[0]!;
    expect(final.mode).toBe('grammar');
    expect(final.start_us).toBeGreaterThan(2_400_000);
    expect(final.start_us).toBeLessThan(2_700_000);
    expect(final.end_us).toBeGreaterThan(final.start_us + 500_000);
    expect(final.end_us).toBeLessThanOrEqual(2_000_000 + (audio.length / 16000) * 1e6);
    expect(final.words.map((w) => w.word)).toEqual(['turn', 'on', 'the', 'light']);
    for (const w of final.words) {
      expect(w.start_us).toBeGreaterThanOrEqual(final.start_us);
      expect(w.end_us).toBeLessThanOrEqual(final.end_us);
      expect(w.end_us).toBeGreaterThan(w.start_us);
    }
    const starts = final.words.map((w) => w.start_us);
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
    // The text frame is stamped with the first word's start.
    expect(outputs.find((d) => d.kind === 'text')?.timestampUs).toBe(final.start_us);
    // Partial hypotheses come before the final text, and grow towards it.
    const partialAt = outputs.flatMap((d, i) =>
      d.kind === 'event' && d.name === 'partial_transcript' ? [i] : [],
    );
    expect(partialAt.length).toBeGreaterThan(0);
    expect(Math.max(...partialAt)).toBeLessThan(outputs.findIndex((d) => d.kind === 'text'));
    const lastPartial = outputs[partialAt.at(-1)!] as unknown as { payload: { text: string } };
    expect(['turn on the light', 'turn on the']).toContain(lastPartial.payload.text);
  }, 60_000);

  it('keyword spotting (engine_options.kws_threshold) finds a keyword inside a sentence', async () => {
    // PocketSphinx spots espeak-ng's "computer" at 1e-40 but none of the commands (checked
    // natively too): spotting suits distinct wake words; the grammar suits commands.
    const audio = await speech('hello computer what time is it', 'en-us', 0.3);
    const outputs = await runner.executeBatch(
      recognise({ keywords: ['computer'], engine_options: { kws_threshold: 1e-40 } }),
      [RuntimeData.audio(audio, 16000, 1)],
    );
    const [final] = transcripts(outputs);
    expect(final!.text.split(' ')).toContain('computer');
    const spotted = final!.words.find((w) => w.word === 'computer')!;
    // "hello" comes first: the keyword starts well after the speech does (0.3 s).
    expect(spotted.start_us).toBeGreaterThan(500_000);
    expect(spotted.end_us).toBeLessThanOrEqual((audio.length / 16000) * 1e6);
    const refused = await runner
      .executeBatch(recognise({ keywords: ['computer'], engine_options: { kws_threshold: 5 } }), [])
      .catch((e: unknown) => e);
    expect(String((refused as Error).message)).toContain(
      'params.engine_options.kws_threshold must be a number between 0 and 1',
    );
  }, 60_000);

  it('dictation with the general language model runs; its word error rate is printed', async () => {
    const sentences = corpus.dictation;
    const audio = await Promise.all(sentences.map((s) => speech(s)));
    const outputs = await runner.executeBatch(
      recognise({}),
      audio.map((a) => RuntimeData.audio(a, 16000, 1)),
    );
    const heard = transcripts(outputs);
    expect(heard.length).toBe(sentences.length);
    expect(heard.every((t) => t.mode === 'dictation')).toBe(true);
    const words = sentences.reduce((n, s) => n + s.split(' ').length, 0);
    const errors = sentences.reduce((n, s, i) => n + wordErrors(s, heard[i]!.text), 0);
    console.log(
      `dictation (browser, pocketsphinx wasm, en-us voice): ${errors} errors in ${words} words, WER ${((100 * errors) / words).toFixed(0)}%; heard: ${JSON.stringify(heard.map((t) => t.text))}`,
    );
    expect(heard.some((t) => t.text.length > 0)).toBe(true);
  }, 120_000);

  it('empty audio, silence and a tone give an empty transcript, not an error', async () => {
    const tone = Float32Array.from(
      { length: 16000 },
      (_, i) => 0.3 * Math.sin((2 * Math.PI * 440 * i) / 16000),
    );
    let seed = 7;
    const noise = Float32Array.from({ length: 16000 }, () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return 0.05 * (seed / 2 ** 30 - 1);
    });
    for (const params of [{ grammar: corpus.grammar }, {}]) {
      // Noise before the tone: a loud tone shifts the decoder's running cepstral mean,
      // after which this noise was once heard as "show" in dictation.
      const inputs = [new Float32Array(0), new Float32Array(16000), noise, tone];
      const outputs = await runner.executeBatch(
        recognise(params),
        inputs.map((a) => RuntimeData.audio(a, 16000, 1)),
      );
      expect(texts(outputs)).toEqual([]);
      expect(
        outputs.map((d) =>
          d.kind === 'event' ? [d.name, (d.payload as { text: string }).text] : d.kind,
        ),
      ).toEqual(inputs.map(() => ['transcript', '']));
    }
    // A silent stream cut by the engine's detector: nothing at all.
    const stream = await runner.executeBatch(
      recognise({ grammar: corpus.grammar, endpointing: 'silence' }),
      [RuntimeData.audio(new Float32Array(32000), 16000, 1)],
    );
    expect(stream).toEqual([]);
  }, 60_000);

  it('endpointing "silence" cuts a stream into utterances', async () => {
    const phrases = ['turn on the light', 'what time is it', 'stop'];
    const parts = await Promise.all(phrases.map((p) => speech(p, 'en-us', 0.5)));
    const gap = 8000;
    const stream = new Float32Array(parts.reduce((n, p) => n + p.length + gap, 0));
    let at = 0;
    for (const p of parts) {
      stream.set(p, at);
      at += p.length + gap;
    }
    // A microphone's noise floor (about -70 dBFS), as the gateway's test.
    let seed = 11;
    for (let i = 0; i < stream.length; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      stream[i]! += 3e-4 * (seed / 2 ** 30 - 1);
    }
    const blocks: RuntimeData[] = [];
    for (let i = 0; i < stream.length; i += 320) {
      blocks.push(RuntimeData.audio(stream.slice(i, i + 320), 16000, 1, (i * 1e6) / 16000));
    }
    const outputs = await runner.executeBatch(
      recognise({ keywords: phrases, endpointing: 'silence' }),
      blocks,
    );
    expect(texts(outputs)).toEqual(phrases);
  }, 60_000);

  it('a grammar that does not parse is a manifest error naming its line and param', async () => {
    const bad = '#JSGF V1.0;\ngrammar g;\npublic <g> = turn on | stop\n<x> = open;\n';
    const error = await runner
      .executeBatch(recognise({ grammar: bad }), [])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteMediaError);
    expect(error).toMatchObject({ kind: 'manifest_invalid' });
    const issue = (error as { issues: { path: string; message: string }[] }).issues[0]!;
    expect(issue.path).toBe('nodes[0].params.grammar');
    expect(issue.message).toMatch(/^grammar line 4: /);
    const undefinedRule = await runner
      .executeBatch(
        recognise({ grammar: '#JSGF V1.0;\ngrammar g;\npublic <g> = turn on the <thing>;\n' }),
        [],
      )
      .catch((e: unknown) => e);
    expect((undefinedRule as { issues: { message: string }[] }).issues[0]!.message).toMatch(
      /^grammar line 3: <thing> is not defined in this grammar/,
    );
  });

  it('a word not in the dictionary fails the node, naming the word, its line and the param', async () => {
    const error = await runner
      .executeBatch(
        recognise({ grammar: '#JSGF V1.0;\ngrammar g;\npublic <g> = stop\n  | zzxqj;\n' }),
        [RuntimeData.audio(new Float32Array(160), 16000, 1)],
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteMediaError);
    expect(String((error as Error).message)).toContain(
      "params.grammar: grammar line 4: the word 'zzxqj' is not in the pronunciation dictionary",
    );
    const other = await runner
      .executeBatch(recognise({ keywords: ['stop'] }), [
        RuntimeData.audio(new Float32Array(160), 44100, 1),
      ])
      .catch((e: unknown) => e);
    expect(String((other as Error).message)).toMatch(
      /needs 16000 Hz mono audio, received 44100 Hz .* Resample/,
    );
  }, 60_000);

  it('the engine seam: a registered engine is used by name, its options passed', async () => {
    const calls: unknown[] = [];
    // A user's engine: here it wraps the shipped one and records what it is given.
    const recording: RecognizerFactory = async (options) => {
      calls.push(['create', options.grammar !== undefined, options.engineOptions]);
      const inner: Recognizer = await pocketsphinx({ ...options, engineOptions: {} });
      return {
        sampleRate: inner.sampleRate,
        start: () => inner.start(),
        accept: (pcm) => {
          calls.push(['accept', pcm.length]);
          inner.accept(pcm);
        },
        finish: () => inner.finish(),
        close: () => inner.close(),
      };
    };
    const seam = new PipelineRunner({
      nodes: [createSpeechToText({ engines: { [POCKETSPHINX]: pocketsphinx, recording } })],
    });
    const outputs = await seam.executeBatch(
      recognise({
        engine: 'recording',
        keywords: ['stop', 'play music'],
        engine_options: { beam: 1 },
      }),
      [RuntimeData.audio(await speech('play music'), 16000, 1)],
    );
    expect(texts(outputs)).toEqual(['play music']);
    expect(calls[0]).toEqual(['create', true, { beam: 1 }]);
    expect(calls.slice(1).every((c) => (c as [string, number])[1] <= 1600)).toBe(true); // 100 ms pieces
    // No partials from an engine without them; no "silence" endpointing without a detector.
    const noVad = await seam
      .executeBatch(
        recognise({ engine: 'recording', keywords: ['stop'], endpointing: 'silence' }),
        [RuntimeData.audio(new Float32Array(160), 16000, 1)],
      )
      .catch((e: unknown) => e);
    expect(String((noVad as Error).message)).toContain(
      'needs an engine with a voice activity detector',
    );
    const unknown = await seam
      .executeBatch(recognise({ engine: 'whisper' }), [])
      .catch((e: unknown) => e);
    expect(String((unknown as Error).message)).toContain(
      'no recognition engine named "whisper" in the browser; registered: pocketsphinx, recording',
    );
  }, 60_000);
});

describe('SpeechToText in the pipeline worker, through createRuntime', async () => {
  const runtime = await createRuntime();
  afterAll(() => runtime.dispose());

  it('the planner places it in the worker by default, and it recognises a command', async () => {
    const corpus = await commands.speechCorpus();
    const manifest = recognise({ grammar: corpus.grammar, partials: true });
    const outputs = await runtime.run(manifest, [
      RuntimeData.audio(await speech('what time is it', 'en-us+f3'), 16000, 1),
    ]);
    const data = outputs.map((o) => o.data);
    expect(texts(data)).toEqual(['what time is it']);
    expect(transcripts(data)[0]).toMatchObject({ text: 'what time is it', mode: 'grammar' });
    expect(outputs.every((o) => o.nodeId === 'stt')).toBe(true);
    // Not on a gateway (this runtime has none) nor on the page (its stand-in throws):
    // the worker ran it. Its grammar is checked there, the path kept across the boundary.
    const error = await runtime
      .validate(recognise({ grammar: '#JSGF V1.0;\ngrammar g;\npublic <g> = stop |;\n' }))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'manifest_invalid' });
    const issue = (error as { issues: { path: string; message: string }[] }).issues[0]!;
    expect([issue.path, issue.message.slice(0, 15)]).toEqual([
      'nodes[0].params.grammar',
      'grammar line 3:',
    ]);
  }, 90_000);

  it("flite's speech, synthesized in the worker, is read back there with the sentence as grammar", async () => {
    const sentence = 'what time is it';
    const manifest: Manifest = {
      version: 'v1',
      metadata: { name: 'speak-and-hear-offline' },
      nodes: [
        { id: 'tts', node_type: 'TextToSpeech', params: { sample_rate: 16000 } },
        {
          id: 'stt',
          node_type: 'SpeechToText',
          // The chunks are one stream: the engine's detector finds the utterance in it.
          params: {
            grammar: `#JSGF V1.0;\ngrammar g;\npublic <g> = ${sentence} | stop | turn on the radio;\n`,
            endpointing: 'silence',
          },
        },
      ],
      connections: [{ from: 'tts', to: 'stt' }],
    };
    const outputs = await runtime.run(manifest, [RuntimeData.text(sentence)]);
    expect(texts(outputs.map((o) => o.data))).toEqual([sentence]);
  }, 90_000);
});
