import { z } from 'zod';
import { defineNode } from '../../node-contract.ts';
import type { AudioData } from '../../runtime-data.ts';
import { StreamFormat } from './audio-checks.ts';

/**
 * Re-cuts audio into frames of exactly frame_size samples per channel, starting
 * every hop samples (hop < frame_size overlaps, hop > frame_size skips), whatever
 * the size of the input chunks. At a flush or the end of the stream, the frames
 * that started but could not be completed are zero-padded (tail "pad") or dropped.
 */
export const Rebuffer = defineNode({
  type: 'Rebuffer',
  aliases: ['AudioBufferNode', 'ChunkerNode'],
  description: 'Emits audio frames of exactly frame_size samples per channel, every hop samples.',
  params: z
    .strictObject({
      frame_size: z
        .int()
        .min(1)
        .max(1 << 22),
      hop: z
        .int()
        .min(1)
        .max(1 << 22)
        .optional(),
      tail: z.enum(['pad', 'drop']).default('pad'),
    })
    .transform((p) => ({ ...p, hop: p.hop ?? p.frame_size })),
  accepts: ['audio'],
  create({ frame_size, hop, tail }) {
    const format = new StreamFormat('Rebuffer');
    let pending = new Float32Array(0);
    /**
     * `pending` holds the latest `held` frames of the stream, from position heldFrom;
     * positions count frames per channel from the start of the stream.
     */
    let held = 0;
    let heldFrom = 0;
    /** Stream position where the next output frame starts. */
    let nextStart = 0;
    let startUs: number | undefined;

    const frameAt = (start: number, samples: Float32Array): AudioData => {
      const out: AudioData = {
        kind: 'audio',
        samples,
        sampleRate: format.sampleRate,
        channels: format.channels,
      };
      if (startUs !== undefined) out.timestampUs = startUs + (start / format.sampleRate) * 1e6;
      return out;
    };

    /** Drops held frames no future output frame needs. */
    const discardBefore = (position: number) => {
      const drop = Math.min(held, Math.max(0, position - heldFrom));
      if (drop === 0) return;
      const ch = format.channels;
      pending.copyWithin(0, drop * ch, held * ch);
      held -= drop;
      heldFrom += drop;
    };

    return {
      process(input) {
        const audio = input as AudioData;
        if (format.check(audio)) {
          startUs = audio.timestampUs;
          held = 0;
          heldFrom = 0;
          nextStart = 0;
        }
        const ch = format.channels;
        const frames = audio.samples.length / ch;
        if ((held + frames) * ch > pending.length) {
          const grown = new Float32Array(Math.max((held + frames) * ch, pending.length * 2));
          grown.set(pending.subarray(0, held * ch));
          pending = grown;
        }
        pending.set(audio.samples, held * ch);
        held += frames;
        const outputs: AudioData[] = [];
        while (nextStart + frame_size <= heldFrom + held) {
          const at = (nextStart - heldFrom) * ch;
          outputs.push(frameAt(nextStart, pending.slice(at, at + frame_size * ch)));
          nextStart += hop;
        }
        discardBefore(nextStart);
        return outputs;
      },
      flush() {
        const outputs: AudioData[] = [];
        if (format.sampleRate !== 0 && tail === 'pad') {
          const ch = format.channels;
          for (; nextStart < heldFrom + held; nextStart += hop) {
            const at = (nextStart - heldFrom) * ch;
            const samples = new Float32Array(frame_size * ch);
            samples.set(pending.subarray(at, held * ch));
            outputs.push(frameAt(nextStart, samples));
          }
        }
        format.reset();
        held = 0;
        return outputs;
      },
    };
  },
});
