/** WAV files on disk for tests and benchmarks, through the project's one codec (web/core/wav-codec.ts). */
import { readFileSync, writeFileSync } from 'node:fs';
import { decodeWav, encodeWav, type WavAudio } from '../../web/core/wav-codec.ts';

export type Wav = WavAudio;

export function writeWavFloat32(path: string, wav: Wav): void {
  writeFileSync(path, encodeWav(wav, 'float32'));
}

export function readWav(path: string): Wav {
  return decodeWav(readFileSync(path), path);
}
