import { z } from 'zod';
import { defineNode } from '../../node-contract.ts';
import type { AudioData, EventData, RuntimeData } from '../../runtime-data.ts';
import { StreamFormat } from './audio-checks.ts';
import { DspInstance, DspScratch } from './dsp-module.ts';

/**
 * Energy voice activity detection: the RMS level of fixed analysis frames against
 * a threshold, with a minimum speech length to start and a hangover to end.
 * Emits `speech_start` / `speech_end` events whose timestamps are the start of the
 * first speech frame and the end of the last one; audio passes through unless
 * emit_audio is false. The sum of squares runs in WASM.
 */
export const EnergyVAD = defineNode({
  type: 'EnergyVAD',
  aliases: ['EnergyVADNode'],
  description: 'Finds speech by RMS level; emits speech_start / speech_end events.',
  params: z.strictObject({
    threshold_db: z.number().min(-120).max(0).default(-40),
    frame_ms: z.number().min(1).max(1000).default(20),
    min_speech_ms: z.number().min(0).max(10_000).default(100),
    hangover_ms: z.number().min(0).max(10_000).default(300),
    emit_audio: z.boolean().default(true),
  }),
  accepts: ['audio'],
  create(params) {
    const format = new StreamFormat('EnergyVAD');
    let dsp: DspInstance;
    let scratch: DspScratch;
    let frameLength = 0; // frames per analysis window
    let window = new Float32Array(0);
    let filled = 0;
    let position = 0; // frames analysed since the start of the stream
    let startUs = 0;
    let speaking = false;
    let run = 0; // consecutive windows on the other side of the threshold
    let lastSpeechEnd = 0;

    const event = (
      name: 'speech_start' | 'speech_end',
      frame: number,
      levelDb?: number,
    ): EventData => {
      const out: EventData = {
        kind: 'event',
        name,
        timestampUs: startUs + (frame / format.sampleRate) * 1e6,
      };
      if (levelDb !== undefined) out.payload = { level_db: Math.round(levelDb * 10) / 10 };
      return out;
    };

    const analyse = (events: RuntimeData[]) => {
      const n = frameLength * format.channels;
      scratch.f32(n).set(window.subarray(0, n));
      const meanSquare = dsp.exports.sumSquares(scratch.pointer, n) / n;
      const levelDb = 10 * Math.log10(meanSquare + 1e-20);
      const isSpeech = levelDb > params.threshold_db;
      const windowStart = position;
      position += frameLength;
      if (!speaking) {
        run = isSpeech ? run + 1 : 0;
        if (isSpeech && run * params.frame_ms >= params.min_speech_ms) {
          events.push(event('speech_start', windowStart - (run - 1) * frameLength, levelDb));
          speaking = true;
          run = 0;
          lastSpeechEnd = position;
        }
      } else if (isSpeech) {
        run = 0;
        lastSpeechEnd = position;
      } else if (++run * params.frame_ms >= params.hangover_ms) {
        speaking = false;
        run = 0;
        events.push(event('speech_end', lastSpeechEnd, levelDb));
      }
    };

    return {
      async initialize() {
        dsp = await DspInstance.create();
        scratch = new DspScratch(dsp);
      },
      process(input) {
        const audio = input as AudioData;
        if (format.check(audio)) {
          frameLength = Math.max(1, Math.round((params.frame_ms / 1000) * audio.sampleRate));
          window = new Float32Array(frameLength * audio.channels);
          filled = 0;
          position = 0;
          startUs = audio.timestampUs ?? 0;
        }
        const events: RuntimeData[] = [];
        const { samples } = audio;
        for (let at = 0; at < samples.length;) {
          const take = Math.min(window.length - filled, samples.length - at);
          window.set(samples.subarray(at, at + take), filled);
          filled += take;
          at += take;
          if (filled === window.length) {
            analyse(events);
            filled = 0;
          }
        }
        return params.emit_audio ? [audio, ...events] : events;
      },
      flush() {
        const events: RuntimeData[] = [];
        if (speaking) events.push(event('speech_end', lastSpeechEnd));
        speaking = false;
        run = 0;
        format.reset();
        return events;
      },
    };
  },
});
