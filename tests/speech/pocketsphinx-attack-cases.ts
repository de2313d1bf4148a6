/**
 * The attacks on SpeechToText's browser engine (PocketSphinx in WASM, one module per
 * thread with a decoder handle per recognizer), written once and run under Node
 * (web/runtime/speech/attack-pocketsphinx.test.ts) and in Chromium
 * (attack-pocketsphinx.browser.test.ts), which give the assets and the speech: calls
 * after close, two recognizers interleaved in one module (glue.c's shared statics), a
 * 1 MB and a 6 MB grammar (ccall puts a string argument on the WASM stack), audio at
 * the wrong rate, stereo, NaN samples, 200 utterances (the module's heap must stop
 * growing) and one 10-minute utterance.
 */
import { describe, expect, it } from 'vitest';
import {
  type Manifest,
  PipelineRunner,
  RemoteMediaError,
  RuntimeData,
} from '../../web/core/internal.ts';
import { loadPocketSphinx } from '../../web/runtime/speech/pocketsphinx-module.ts';
import { POCKETSPHINX, pocketSphinxEngine } from '../../web/runtime/speech/pocketsphinx-stt.ts';
import type { Recognizer } from '../../web/runtime/speech/speech-recognizer.ts';
import { createSpeechToText } from '../../web/runtime/speech/speech-to-text-node.ts';

export const GRAMMAR =
  '#JSGF V1.0;\ngrammar cmd;\npublic <cmd> = turn on the light | turn off the light | stop | go;\n';

export interface AttackEnvironment {
  /** Where the pocketsphinx/ assets folder is served from, as the worker is given it. */
  assets: () => { base: string };
  /** espeak-ng speech at 16 kHz, `padS` seconds of silence around it. */
  speech: (text: string, padS?: number) => Promise<Float32Array>;
}

export function describePocketSphinxAttacks(title: string, env: AttackEnvironment): void {
  const { assets, speech } = env;
  const pocketsphinx = pocketSphinxEngine(assets);

  function pcm16(samples: Float32Array): Int16Array {
    return Int16Array.from(samples, (s) => Math.round(Math.max(-1, Math.min(1, s)) * 32767));
  }

  function recognizer(grammar: string | undefined = GRAMMAR): Promise<Recognizer> {
    return pocketsphinx({
      grammar,
      keywords: undefined,
      engineOptions: {},
      nodeId: 'stt',
      signal: new AbortController().signal,
    });
  }

  function once(r: Recognizer, pcm: Int16Array): string {
    r.start();
    for (let at = 0; at < pcm.length; at += 1600) r.accept(pcm.subarray(at, at + 1600));
    return r.finish().text;
  }

  async function heapBytes(): Promise<number> {
    return (await loadPocketSphinx(assets())).module.HEAPU8.length;
  }

  const runner = new PipelineRunner({
    nodes: [createSpeechToText({ engines: { [POCKETSPHINX]: pocketsphinx } })],
  });
  const recognise = (params: Record<string, unknown>): Manifest => ({
    version: 'v1',
    metadata: { name: 'attack-stt' },
    nodes: [{ id: 'stt', node_type: 'SpeechToText', params }],
    connections: [],
  });

  describe(title, () => {
    // After close() the handle was 0 and every call went on into the WASM with a null
    // decoder: undefined behaviour in C (reads and writes at address 0 of the heap).
    it('every call after close is a typed error, and close twice is harmless', async () => {
      const r = await recognizer();
      const pcm = pcm16(await speech('stop'));
      expect(once(r, pcm)).toBe('stop');
      r.close();
      r.close();
      for (const call of [
        () => r.start(),
        () => r.accept(pcm.subarray(0, 160)),
        () => r.finish(),
        () => r.partial?.(),
        () => r.inSpeech?.(),
      ]) {
        let error: unknown;
        try {
          call();
        } catch (caught) {
          error = caught;
        }
        expect(error).toBeInstanceOf(RemoteMediaError);
        expect((error as RemoteMediaError).message).toMatch(/stt: .*closed/);
      }
      // The module is fine for the next recognizer.
      const next = await recognizer();
      expect(once(next, pcm)).toBe('stop');
      next.close();
    }, 60_000);

    it('two recognizers interleaved in one module hear what each would alone', async () => {
      const a = await recognizer();
      const b = await recognizer(
        '#JSGF V1.0;\ngrammar other;\npublic <x> = go | stop | turn off the light;\n',
      );
      const light = pcm16(await speech('turn on the light'));
      const go = pcm16(await speech('go'));
      a.start();
      b.start();
      for (let at = 0; at < Math.max(light.length, go.length); at += 1600) {
        if (at < light.length) a.accept(light.subarray(at, at + 1600));
        if (at < go.length) b.accept(go.subarray(at, at + 1600));
      }
      const heardB = b.finish();
      const heardA = a.finish();
      expect(heardA.text).toBe('turn on the light');
      expect(heardA.words.map((w) => w.word)).toEqual(['turn', 'on', 'the', 'light']);
      expect(heardB.text).toBe('go');
      expect(heardB.words.map((w) => w.word)).toEqual(['go']);
      a.close();
      b.close();
    }, 60_000);

    it('a 1 MB grammar is taken, and a 6 MB one is taken or refused with a typed error', async () => {
      // Two words a rule: 1 MB of 'go | stop | turn on the light' takes a minute of the
      // thread to compile (the FSG), which is slow but not what is attacked here.
      for (const alternatives of [180_000, 1_100_000]) {
        const rule = Array.from({ length: alternatives }, (_, i) => ['go', 'stop'][i % 2]).join(
          ' | ',
        );
        const grammar = `#JSGF V1.0;\ngrammar big;\npublic <cmd> = ${rule};\n`;
        const made = await recognizer(grammar).catch((e: unknown) => e);
        if (made instanceof Error) {
          expect(made).toBeInstanceOf(RemoteMediaError);
          expect(made.message).toMatch(/^stt: /);
        } else {
          expect(once(made as Recognizer, pcm16(await speech('stop')))).toBe('stop');
          (made as Recognizer).close();
        }
        // Whatever happened, the module still works.
        const check = await recognizer();
        expect(once(check, pcm16(await speech('go')))).toBe('go');
        check.close();
      }
    }, 180_000);

    it('wrong rate and stereo are invalid_data (the cause) naming the fix; NaN samples are refused or heard as silence', async () => {
      for (const [rate, channels] of [
        [8000, 1],
        [48000, 1],
        [16000, 2],
      ] as const) {
        const error = await runner
          .executeBatch(recognise({ grammar: GRAMMAR }), [
            RuntimeData.audio(new Float32Array(1600 * channels), rate, channels),
          ])
          .catch((e: unknown) => e);
        // The executor reports a node's error as node_failed, the node's own as its cause.
        expect((error as RemoteMediaError).kind).toBe('node_failed');
        expect(((error as RemoteMediaError).cause as RemoteMediaError).kind).toBe('invalid_data');
        expect((error as Error).message).toMatch(/needs 16000 Hz mono audio.*Resample/);
      }
      const nan = new Float32Array(16000).fill(Number.NaN);
      const outcome = await runner
        .executeBatch(recognise({ grammar: GRAMMAR }), [RuntimeData.audio(nan, 16000, 1)])
        .catch((e: unknown) => e);
      if (outcome instanceof Error) expect(outcome).toBeInstanceOf(RemoteMediaError);
      else expect((outcome as RuntimeData[]).filter((d) => d.kind === 'text')).toEqual([]);
    }, 60_000);

    it('200 utterances on one recognizer: the heap stops growing', async () => {
      const r = await recognizer();
      const pcm = pcm16(await speech('turn off the light'));
      for (let i = 0; i < 20; i++) once(r, pcm); // warm up: the decoder's tables reach size
      const warm = await heapBytes();
      for (let i = 0; i < 180; i++) expect(once(r, pcm)).toBe('turn off the light');
      const after = await heapBytes();
      console.log(`pocketsphinx heap: ${warm} bytes after 20 utterances, ${after} after 200`);
      expect(after).toBe(warm);
      r.close();
    }, 180_000);

    it('one 10-minute utterance gives one transcript and leaves the module working', async () => {
      const phrase = await speech('stop', 0.5);
      const total = 16000 * 600;
      const long = new Float32Array(total);
      for (let at = 0; at < total; at += phrase.length) {
        long.set(phrase.subarray(0, Math.min(phrase.length, total - at)), at);
      }
      const outputs = await runner.executeBatch(recognise({ grammar: GRAMMAR }), [
        RuntimeData.audio(long, 16000, 1),
      ]);
      const events = outputs.filter((d) => d.kind === 'event' && d.name === 'transcript');
      expect(events).toHaveLength(1);
      const check = await recognizer();
      expect(once(check, pcm16(await speech('go')))).toBe('go');
      check.close();
    }, 300_000);
  });
}
