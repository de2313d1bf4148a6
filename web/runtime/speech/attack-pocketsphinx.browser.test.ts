/**
 * SpeechToText's browser engine under attack in real Chromium, on espeak-ng speech
 * made on the Node side: the cases shared with Node
 * (tests/speech/pocketsphinx-attack-cases.ts), then two SpeechToText nodes in one
 * pipeline worker.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { commands } from 'vitest/browser';
import {
  describePocketSphinxAttacks,
  GRAMMAR,
} from '../../../tests/speech/pocketsphinx-attack-cases.ts';
import { type Manifest, RuntimeData } from '../../core/internal.ts';
import { resolveAssetsBase } from '../assets.ts';
import { createRuntime } from '../runtime.ts';

declare module 'vitest/browser' {
  interface BrowserCommands {
    speak(text: string, voice?: string, padS?: number): Promise<string>;
  }
}

const assets = () => ({ base: `${resolveAssetsBase(undefined)}pocketsphinx/` });

async function speech(text: string, padS = 0.2): Promise<Float32Array> {
  const bytes = Uint8Array.from(atob(await commands.speak(text, 'en-us', padS)), (c) =>
    c.charCodeAt(0),
  );
  return new Float32Array(bytes.buffer);
}

describePocketSphinxAttacks('PocketSphinx in the browser under attack', { assets, speech });

describe('two SpeechToText nodes in one pipeline worker', async () => {
  const runtime = await createRuntime();
  afterAll(() => runtime.dispose());
  const twoRecognizers = (second: Record<string, unknown>): Manifest => ({
    version: 'v1',
    metadata: { name: 'attack-stt-two' },
    nodes: [
      { id: 'mic', node_type: 'PassThrough', params: {} },
      { id: 'a', node_type: 'SpeechToText', params: { grammar: GRAMMAR } },
      { id: 'b', node_type: 'SpeechToText', params: second },
    ],
    connections: [
      { from: 'mic', to: 'a' },
      { from: 'mic', to: 'b' },
    ],
  });
  const textsOf = (outputs: { nodeId: string; data: RuntimeData }[], id: string) =>
    outputs.flatMap((o) => (o.nodeId === id && o.data.kind === 'text' ? [o.data.text] : []));

  it('each hears with its own grammar, session after session; an OOV keyword fails only its session', async () => {
    const audio = [await speech('turn on the light'), await speech('go')];
    const second = { keywords: ['go', 'light'] };
    for (let round = 0; round < 3; round++) {
      const outputs = await runtime.run(
        twoRecognizers(second),
        audio.map((a) => RuntimeData.audio(a, 16000, 1)),
      );
      expect(textsOf(outputs, 'a')).toEqual(['turn on the light', 'go']);
      // "turn on the light" through a grammar of only "go | light": not the phrase.
      expect(textsOf(outputs, 'b').at(-1)).toBe('go');
      if (round === 1) {
        const error = await runtime
          .run(twoRecognizers({ keywords: ['go', 'flurbington'] }), [])
          .catch((e: unknown) => e);
        expect(String((error as Error).message)).toMatch(
          /params\.keywords: .*'flurbington' is not in the pronunciation dictionary/,
        );
      }
    }
  }, 120_000);
});
