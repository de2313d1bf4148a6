import { z } from 'zod';
import { defineNode } from '../../node-contract.ts';
import type { AudioData } from '../../runtime-data.ts';
import { assertFiniteSamples, StreamFormat } from './audio-checks.ts';
import { DspInstance } from './dsp-module.ts';
import { createResampler, type Resampler } from './resample-cascade.ts';
import { DEFAULT_RESAMPLE_QUALITY, planResample, RESAMPLE_QUALITIES } from './resample-filter.ts';

const rate = z.int().min(1000).max(384_000);

/**
 * Band-limited resampling (polyphase, equiripple or Kaiser-windowed filters: see
 * resample-filter.ts; WASM) between any two rates; large downsampling ratios first
 * halve the rate with half-band stages.
 * Streaming: output does not depend on how the input is chunked; flush (or the end
 * of the stream) emits the tail.
 */
export const Resample = defineNode({
  type: 'Resample',
  aliases: ['ResampleNode', 'AudioResampleNode'],
  description: 'Converts audio to target_rate (band-limited polyphase filter, WASM).',
  params: z.strictObject({
    target_rate: rate,
    /** When set, input at any other rate is an error. */
    source_rate: rate.optional(),
    quality: z
      .enum(Object.keys(RESAMPLE_QUALITIES) as [keyof typeof RESAMPLE_QUALITIES])
      .default(DEFAULT_RESAMPLE_QUALITY),
  }),
  accepts: ['audio'],
  create({ target_rate, source_rate, quality }) {
    let dsp: DspInstance;
    const format = new StreamFormat('Resample', source_rate);
    let resampler: Resampler | undefined;
    let resamplerRate = 0;
    let startUs: number | undefined;
    let framesOut = 0;

    const frame = (samples: Float32Array): AudioData | undefined => {
      if (samples.length === 0) return undefined;
      const out: AudioData = {
        kind: 'audio',
        samples,
        sampleRate: target_rate,
        channels: format.channels,
      };
      if (startUs !== undefined) out.timestampUs = startUs + (framesOut / target_rate) * 1e6;
      framesOut += samples.length / format.channels;
      return out;
    };

    return {
      async initialize() {
        dsp = await DspInstance.create();
        // The filters' design (a Remez exchange: tens of milliseconds at 48 -> 16 kHz)
        // is kept per rates and quality: with source_rate known it is paid here, not in
        // the first block's process (a real-time glitch).
        if (source_rate !== undefined && source_rate !== target_rate) {
          planResample(source_rate, target_rate, quality);
        }
      },
      process(input) {
        const audio = input as AudioData;
        assertFiniteSamples(audio, 'Resample');
        if (format.check(audio)) {
          startUs = audio.timestampUs;
          framesOut = 0;
          const reusable =
            resampler &&
            resamplerRate === audio.sampleRate &&
            resampler.channels === audio.channels;
          if (audio.sampleRate !== target_rate && !reusable) {
            resampler = createResampler(
              audio.sampleRate,
              target_rate,
              audio.channels,
              dsp,
              quality,
            );
            resamplerRate = audio.sampleRate;
          }
        }
        if (audio.sampleRate === target_rate) return audio;
        return frame(resampler!.push(audio.samples));
      },
      flush() {
        const active = format.sampleRate !== 0 && format.sampleRate !== target_rate;
        const tail = active ? frame(resampler!.flush()) : undefined;
        format.reset();
        return tail;
      },
    };
  },
});
