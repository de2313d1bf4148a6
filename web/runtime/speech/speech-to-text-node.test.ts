/**
 * SpeechToText's node instance used after cleanup, under Node, with the real
 * PocketSphinx module the build made (as attack-pocketsphinx.test.ts loads it).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RemoteMediaError, RuntimeData } from '../../core/internal.ts';
import { POCKETSPHINX, pocketSphinxEngine } from './pocketsphinx-stt.ts';
import { createSpeechToText } from './speech-to-text-node.ts';

const FOLDER = join(import.meta.dirname, '../../../wasm-nodes/build/pocketsphinx');
const base = `${pathToFileURL(FOLDER).href}/`;
const realFetch = globalThis.fetch;
beforeAll(() => {
  // Node's fetch reads no file: URLs: the assets are read from the build's folder.
  globalThis.fetch = (async (input: string | URL | Request) => {
    const url = String(input instanceof Request ? input.url : input);
    if (!url.startsWith('file:')) return realFetch(input);
    return new Response(readFileSync(fileURLToPath(url)));
  }) as typeof fetch;
});
afterAll(() => {
  globalThis.fetch = realFetch;
});

// It threw a plain Error ('SpeechToText: process before initialize') naming no node.
it('process after cleanup is a typed usage error naming the node', async () => {
  const definition = createSpeechToText({
    engines: { [POCKETSPHINX]: pocketSphinxEngine(() => ({ base })) },
  });
  const context = { nodeId: 'stt', signal: new AbortController().signal };
  const checked = await definition.params['~standard'].validate({ keywords: ['stop', 'go'] });
  if (checked.issues) throw new Error(`params: ${JSON.stringify(checked.issues)}`);
  const stt = definition.create(checked.value, context);
  await stt.initialize?.();
  const audio = RuntimeData.audio(new Float32Array(1600), 16_000, 1);
  void [...(stt.process(audio, { ...context, from: undefined }) as Iterable<RuntimeData>)];
  await stt.cleanup?.();
  let error: unknown;
  try {
    stt.process(audio, { ...context, from: undefined });
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(RemoteMediaError);
  expect(error).toMatchObject({ kind: 'usage', nodeId: 'stt' });
  expect((error as RemoteMediaError).message).toMatch(/^stt: SpeechToText was cleaned up/);
}, 60_000);
