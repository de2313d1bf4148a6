import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RemoteMediaError } from './errors.ts';
import { decodeWav, encodeWav } from './wav-codec.ts';

const dir = mkdtempSync(join(tmpdir(), 'rm-wav-'));

/** A 440 Hz tone written by sox, the reference writer, in the given encoding. */
function soxTone(name: string, args: string[]): Uint8Array {
  const path = join(dir, name);
  execFileSync('sox', ['-n', ...args, path, 'synth', '0.1', 'sine', '440', 'gain', '-6']);
  return readFileSync(path);
}

describe('decodeWav', () => {
  it.each([
    ['16-bit PCM mono', ['-r', '16000', '-c', '1', '-b', '16'], 16000, 1],
    [
      '24-bit PCM stereo (sox writes WAVE_FORMAT_EXTENSIBLE)',
      ['-r', '44100', '-c', '2', '-b', '24'],
      44100,
      2,
    ],
    ['32-bit PCM, 6 channels', ['-r', '48000', '-c', '6', '-b', '32', '-e', 'signed'], 48000, 6],
    ['32-bit float stereo', ['-r', '22050', '-c', '2', '-b', '32', '-e', 'float'], 22050, 2],
    ['8-bit unsigned', ['-r', '8000', '-c', '1', '-b', '8', '-e', 'unsigned'], 8000, 1],
  ])('reads %s as sox wrote it', (_, args, rate, channels) => {
    const wav = decodeWav(soxTone(`${rate}-${channels}-${args.join('')}.wav`, args as string[]));
    expect(wav.sampleRate).toBe(rate);
    expect(wav.channels).toBe(channels);
    expect(wav.samples.length).toBe(Math.round(rate * 0.1) * channels);
    // -6 dB: the peak is half of full scale, whatever the encoding.
    const peak = wav.samples.reduce((m, s) => Math.max(m, Math.abs(s)), 0);
    expect(peak).toBeGreaterThan(0.49);
    expect(peak).toBeLessThan(0.51);
  });

  it.each(['float32', 'pcm16'] as const)(
    'writes %s files that sox reads without a warning',
    (format) => {
      const path = join(dir, `ours-${format}.wav`);
      const samples = Float32Array.from({ length: 800 }, (_, i) => Math.sin(i / 9) / 2);
      writeFileSync(path, encodeWav({ samples, sampleRate: 8000, channels: 2 }, format));
      const info = spawnSync('sox', ['--i', path], { encoding: 'utf8' });
      expect(info.stderr).toBe('');
      expect(info.stdout).toMatch(/Channels\s+: 2/);
      expect(info.stdout).toContain('= 400 samples');
    },
  );

  it('round-trips float32 exactly and pcm16 to the same 16-bit values', () => {
    const samples = Float32Array.from({ length: 600 }, (_, i) => Math.sin(i / 7) * 0.9);
    const audio = { samples, sampleRate: 16000, channels: 2 };
    expect(decodeWav(encodeWav(audio, 'float32'))).toEqual(audio);
    const once = decodeWav(encodeWav(audio, 'pcm16'));
    expect(decodeWav(encodeWav(once, 'pcm16')).samples).toEqual(once.samples);
    expect(Math.max(...once.samples.map((s, i) => Math.abs(s - samples[i]!)))).toBeLessThan(
      1 / 32768,
    );
  });

  it.each([
    [
      'text',
      new TextEncoder().encode('hello, not audio'),
      'does not start with "RIFF....WAVE" (found "hello, not a")',
    ],
    ['an empty file', new Uint8Array(0), 'found an empty file'],
    [
      'a header with no data',
      encodeWav({ samples: new Float32Array(4), sampleRate: 8000, channels: 1 }, 'pcm16').slice(
        0,
        36,
      ),
      'no "data" chunk',
    ],
    [
      'a truncated data chunk',
      encodeWav({ samples: new Float32Array(100), sampleRate: 8000, channels: 1 }).slice(0, 100),
      'truncated',
    ],
  ])('rejects %s with an invalid_data error naming the file', (_, bytes, what) => {
    let error: unknown;
    try {
      decodeWav(bytes, 'clip.wav');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RemoteMediaError);
    expect(error).toMatchObject({ kind: 'invalid_data', path: 'clip.wav' });
    expect((error as Error).message).toContain('clip.wav is not a readable WAV file');
    expect((error as Error).message).toContain(what);
    expect((error as Error).message).toContain('expected a RIFF/WAVE file');
  });
});
