import { z } from 'zod';
import { defineNode } from '../../node-contract.ts';
import type { AudioData } from '../../runtime-data.ts';
import { assertFiniteSamples } from './audio-checks.ts';
import { DspInstance, DspScratch } from './dsp-module.ts';

/** Multiplies audio by a gain in dB (WASM); with clip, samples are held within [-1, 1]. */
export const Gain = defineNode({
  type: 'Gain',
  aliases: ['GainNode'],
  description: 'Applies gain_db to audio; clip (default true) holds samples within [-1, 1].',
  params: z.strictObject({
    gain_db: z.number().min(-120).max(60),
    clip: z.boolean().default(true),
  }),
  accepts: ['audio'],
  create({ gain_db, clip }) {
    const factor = 10 ** (gain_db / 20);
    let dsp: DspInstance;
    let scratch: DspScratch;
    return {
      async initialize() {
        dsp = await DspInstance.create();
        scratch = new DspScratch(dsp);
      },
      process(input) {
        const audio = input as AudioData;
        assertFiniteSamples(audio, 'Gain');
        const n = audio.samples.length;
        const buffer = scratch.f32(n);
        buffer.set(audio.samples);
        dsp.exports.gain(scratch.pointer, n, factor, clip ? 1 : 0);
        return { ...audio, samples: buffer.slice() };
      },
    };
  },
});
