/**
 * SpeechToText's browser engine under attack, under Node: the same module and engine
 * class the browser's worker runs, its assets read from the folder the build made
 * (the cases: tests/speech/pocketsphinx-attack-cases.ts; Chromium runs them too, in
 * attack-pocketsphinx.browser.test.ts), on real espeak-ng speech.
 */
import { speak } from '../../../tests/audio/espeak-speech.ts';
import { describePocketSphinxAttacks } from '../../../tests/speech/pocketsphinx-attack-cases.ts';
import { pocketSphinxAssetsUnderNode } from '../../../tests/speech/pocketsphinx-node-assets.ts';

const base = pocketSphinxAssetsUnderNode();

describePocketSphinxAttacks('PocketSphinx (the browser engine, under Node) under attack', {
  assets: () => ({ base }),
  speech: (text, padS = 0.2) => Promise.resolve(speak(text, 'en-us', padS)),
});
