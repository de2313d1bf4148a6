import { z } from 'zod';
import { defineNode } from '../../node-contract.ts';
import type { AudioData, RuntimeData } from '../../runtime-data.ts';
import { StreamFormat } from './audio-checks.ts';

/**
 * Gathers audio and emits it as one frame: every duration_ms (exactly that many
 * samples, the remainder carried over), when the event named until_event arrives
 * (then the event itself follows), and at a flush or the end of the stream.
 */
export const Accumulator = defineNode({
  type: 'Accumulator',
  aliases: ['AudioAccumulatorNode'],
  description: 'Gathers audio until duration_ms, an event (until_event), or the end of the stream.',
  params: z.strictObject({
    duration_ms: z.number().positive().max(3_600_000).optional(),
    until_event: z.string().min(1).optional(),
  }),
  accepts: ['audio', 'event'],
  create({ duration_ms, until_event }) {
    const format = new StreamFormat('Accumulator');
    let chunks: Float32Array[] = [];
    let frames = 0;
    let emittedFrames = 0;
    let startUs: number | undefined;

    /** Emits the first `count` frames held (all by default). */
    const emit = (count = frames): AudioData | undefined => {
      if (count === 0) return undefined;
      const ch = format.channels;
      const samples = new Float32Array(count * ch);
      let filled = 0;
      while (filled < samples.length) {
        const chunk = chunks[0]!;
        const take = Math.min(chunk.length, samples.length - filled);
        samples.set(chunk.subarray(0, take), filled);
        filled += take;
        if (take === chunk.length) chunks.shift();
        else chunks[0] = chunk.subarray(take);
      }
      const out: AudioData = {
        kind: 'audio',
        samples,
        sampleRate: format.sampleRate,
        channels: ch,
      };
      if (startUs !== undefined)
        out.timestampUs = startUs + (emittedFrames / format.sampleRate) * 1e6;
      frames -= count;
      emittedFrames += count;
      return out;
    };

    return {
      process(input) {
        if (input.kind === 'event') {
          if (input.name !== until_event) return input;
          const gathered = emit();
          return gathered ? [gathered, input] : input;
        }
        const audio = input as AudioData;
        if (format.check(audio)) {
          startUs = audio.timestampUs;
          emittedFrames = 0;
        }
        chunks.push(audio.samples);
        frames += audio.samples.length / audio.channels;
        if (duration_ms === undefined) return undefined;
        const size = Math.max(1, Math.round((duration_ms / 1000) * format.sampleRate));
        const outputs: RuntimeData[] = [];
        while (frames >= size) outputs.push(emit(size)!);
        return outputs;
      },
      flush() {
        const rest = format.sampleRate === 0 ? undefined : emit();
        chunks = [];
        frames = 0;
        format.reset();
        return rest;
      },
    };
  },
});
