import { z } from 'zod';
import { defineNode } from '../../node-contract.ts';
import { slabFloat32 } from '../../buffer-slab.ts';
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
    let input: DspScratch;
    let output: DspScratch;
    return {
      async initialize() {
        dsp = await DspInstance.create();
        input = new DspScratch(dsp);
        output = new DspScratch(dsp);
      },
      process(data) {
        const audio = data as AudioData;
        const n = audio.samples.length;
        // Both buffers are sized before either view is taken (growing memory detaches views).
        output.f32(n);
        input.f32(n).set(audio.samples);
        // One pass multiplies and checks finiteness (a JS loop over every sample was
        // the gateway's largest per-frame cost in a node); only on a non-finite
        // sample does the JS check run, to throw its typed error naming the index.
        const clamped = dsp.exports.gainChecked(
          input.pointer,
          output.pointer,
          n,
          factor,
          clip ? 1 : 0,
        );
        if (clamped < 0) assertFiniteSamples(audio, 'Gain');
        // Out of WASM memory into slab memory: no ArrayBuffer (and its sweep) per frame.
        const samples = slabFloat32(n);
        samples.set(output.f32(n));
        return { ...audio, samples };
      },
    };
  },
});
