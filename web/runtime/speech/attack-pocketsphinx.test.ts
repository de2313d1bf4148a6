/**
 * SpeechToText's browser engine under attack, under Node: the same module and engine
 * class the browser's worker runs, its assets read from the folder the build made
 * (the cases: tests/speech/pocketsphinx-attack-cases.ts; Chromium runs them too, in
 * attack-pocketsphinx.browser.test.ts), on real espeak-ng speech.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { speak } from '../../../tests/audio/espeak-speech.ts';
import { describePocketSphinxAttacks } from '../../../tests/speech/pocketsphinx-attack-cases.ts';

const FOLDER = join(import.meta.dirname, '../../../wasm-nodes/build/pocketsphinx');
// Node imports the module from a file: URL (not http:), and its fetch() reads no
// file: URLs: the assets are read from the folder the build made, byte for byte.
const base = `${pathToFileURL(FOLDER).href}/`;
const realFetch = globalThis.fetch;
beforeAll(() => {
  globalThis.fetch = (async (input: string | URL | Request) => {
    const url = String(input instanceof Request ? input.url : input);
    if (!url.startsWith('file:')) return realFetch(input);
    return new Response(readFileSync(fileURLToPath(url)));
  }) as typeof fetch;
});
afterAll(() => {
  globalThis.fetch = realFetch;
});

describePocketSphinxAttacks('PocketSphinx (the browser engine, under Node) under attack', {
  assets: () => ({ base }),
  speech: (text, padS = 0.2) => Promise.resolve(speak(text, 'en-us', padS)),
});
