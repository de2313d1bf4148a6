/**
 * Channel count conversion of interleaved audio: downmix to mono by averaging,
 * upmix mono to N by copying. Other conversions are not guessed at.
 */
import { RemoteMediaError } from '../../errors.ts';

export function convertChannels(samples: Float32Array, from: number, to: number): Float32Array {
  if (from === to) return samples;
  const frames = samples.length / from;
  if (to === 1) {
    const out = new Float32Array(frames);
    for (let i = 0; i < frames; i++) {
      let sum = 0;
      for (let c = 0; c < from; c++) sum += samples[i * from + c]!;
      out[i] = sum / from;
    }
    return out;
  }
  if (from === 1) {
    const out = new Float32Array(frames * to);
    for (let i = 0; i < frames; i++) out.fill(samples[i]!, i * to, (i + 1) * to);
    return out;
  }
  throw new RemoteMediaError(
    'invalid_data',
    `cannot convert ${from} channels to ${to}: only downmix to mono and upmix from mono are defined`,
  );
}
