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
    let kernel: GainKernel;
    return {
      async initialize() {
        kernel = await sharedKernel();
      },
      process(data) {
        const audio = data as AudioData;
        const n = audio.samples.length;
        const { dsp, input, output } = kernel;
        // Both buffers are sized before the view is taken (growing memory detaches views).
        input.reserve(n);
        output.reserve(n);
        const memory = dsp.exports.memory.buffer;
        if (kernel.heap.buffer !== memory) kernel.heap = new Float32Array(memory);
        const heap = kernel.heap;
        heap.set(audio.samples, input.pointer >> 2);
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
        const from = output.pointer >> 2;
        samples.set(heap.subarray(from, from + n));
        return { ...audio, samples };
      },
    };
  },
});

/** A DSP instance, its two work buffers and a float view of all its memory. */
interface GainKernel {
  dsp: DspInstance;
  input: DspScratch;
  output: DspScratch;
  heap: Float32Array;
}

let shared: Promise<GainKernel> | undefined;

/**
 * One kernel for every Gain in this thread: Gain keeps no state between calls and
 * uses the buffers only within a synchronous process(), so nodes cannot overlap in
 * them. Where each node had an instance of its own, 300 gateway sessions were 300
 * WASM memories (and their buffers out of cache every frame); now they are one.
 */
function sharedKernel(): Promise<GainKernel> {
  if (!shared) {
    shared = DspInstance.create().then((dsp) => ({
      dsp,
      input: new DspScratch(dsp),
      output: new DspScratch(dsp),
      heap: new Float32Array(0),
    }));
    // A failed creation is not kept: the next node tries again.
    shared.catch(() => (shared = undefined));
  }
  return shared;
}
