/**
 * SpeechToText's node instance used after cleanup, under Node, with the real
 * PocketSphinx module the build made (as attack-pocketsphinx.test.ts loads it).
 */
import { expect, it } from 'vitest';
import { pocketSphinxAssetsUnderNode } from '../../../tests/speech/pocketsphinx-node-assets.ts';
import { RemoteMediaError, RuntimeData } from '../../core/internal.ts';
import { POCKETSPHINX, pocketSphinxEngine } from './pocketsphinx-stt.ts';
import { createSpeechToText } from './speech-to-text-node.ts';

const base = pocketSphinxAssetsUnderNode();

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
