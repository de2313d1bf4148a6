/**
 * One phrase of espeak-ng speech as 16 kHz mono float32 (sox resamples), padded
 * with silence: the TypeScript twin of python-packages/tests/test_speech_fixtures.py's
 * speak(), so browser and gateway recognition are scored on the same audio. Also
 * the command grammar, phrases and voices those tests share.
 */
import { execFileSync } from 'node:child_process';

export function speak(text: string, voice = 'en-us', padS = 0, rate = 16000): Float32Array {
  const wav = execFileSync('espeak-ng', ['-v', voice, '--stdout', text]);
  const raw = execFileSync(
    'sox',
    [
      '-t',
      'wav',
      '-',
      '-t',
      'raw',
      '-r',
      String(rate),
      '-e',
      'floating-point',
      '-b',
      '32',
      '-c',
      '1',
      '-',
    ],
    { input: wav },
  );
  const speech = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
  const pad = Math.round(padS * rate);
  const out = new Float32Array(pad * 2 + speech.length);
  out.set(speech, pad);
  return out;
}

/** The same as base64 bytes, for a vitest browser command. */
export function speakBase64(text: string, voice?: string, padS?: number): string {
  const samples = speak(text, voice, padS);
  return Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength).toString('base64');
}

export interface SpeechCorpus {
  /** The demo's JSGF command grammar. */
  grammar: string;
  commands: string[];
  voices: string[];
  /** Sentences for dictation (the general language model). */
  dictation: string[];
}

/**
 * The gateway tests' command grammar, phrases, voices and dictation sentences, read
 * from their one source (python-packages/tests/test_speech_fixtures.py).
 */
export function speechCorpus(): SpeechCorpus {
  const json = execFileSync(
    '/usr/bin/python3',
    [
      '-c',
      'import json; from tests.test_speech_fixtures import COMMAND_GRAMMAR as g, COMMANDS as c, COMMAND_VOICES as v, DICTATION as d; print(json.dumps({"grammar": g, "commands": c, "voices": v, "dictation": d}))',
    ],
    { cwd: new URL('../../python-packages/', import.meta.url), encoding: 'utf8' },
  );
  return JSON.parse(json) as SpeechCorpus;
}
