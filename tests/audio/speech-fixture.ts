/**
 * Real speech for tests: espeak-ng utterances joined by known silences with sox,
 * and the truth (where each utterance's sound starts and ends) computed from the
 * parts, so detectors can be scored against it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readWav, type Wav } from './wav.ts';

export interface SpeechFixture {
  wav: Wav;
  path: string;
  /** Each utterance's audible span, in seconds from the start of the file. */
  truth: { start: number; end: number }[];
}

/** First and last sample above -60 dBFS: espeak-ng pads its output with digital silence. */
function audibleSpan({ samples }: Wav): [number, number] {
  const floor = 10 ** (-60 / 20);
  let first = 0;
  while (first < samples.length && Math.abs(samples[first]!) < floor) first++;
  let last = samples.length - 1;
  while (last > first && Math.abs(samples[last]!) < floor) last--;
  return [first, last + 1];
}

export function makeSpeechFixture(
  utterances: string[] = [
    'Hello world, this is a test of the speech detector.',
    'After a pause, a second sentence follows.',
  ],
  silences: number[] = [1.0, 1.5, 1.0],
  rate = 16000,
): SpeechFixture {
  const dir = mkdtempSync(join(tmpdir(), 'rm-speech-'));
  const parts: string[] = [];
  const truth: { start: number; end: number }[] = [];
  let at = 0;
  const silence = (seconds: number, index: number) => {
    const file = join(dir, `silence-${index}.wav`);
    execFileSync('sox', [
      '-n',
      '-r',
      String(rate),
      '-c',
      '1',
      '-b',
      '16',
      file,
      'trim',
      '0',
      String(seconds),
    ]);
    parts.push(file);
    at += seconds;
  };
  utterances.forEach((text, i) => {
    silence(silences[i]!, i);
    const raw = join(dir, `utterance-${i}.raw.wav`);
    const file = join(dir, `utterance-${i}.wav`);
    execFileSync('espeak-ng', ['-v', 'en', '-s', '160', '-w', raw, text]);
    execFileSync('sox', [raw, '-r', String(rate), '-c', '1', '-b', '16', file]);
    const wav = readWav(file);
    const [first, last] = audibleSpan(wav);
    truth.push({ start: at + first / rate, end: at + last / rate });
    parts.push(file);
    at += wav.samples.length / rate;
  });
  silence(silences[utterances.length]!, utterances.length);
  const path = join(dir, 'speech.wav');
  execFileSync('sox', [...parts, path]);
  return { wav: readWav(path), path, truth };
}
