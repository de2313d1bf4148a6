/**
 * SileroVAD: speech detection with the Silero models @ricky0123/vad-web ships,
 * run by onnxruntime-web, offline (the caller says where the model bytes come
 * from). Takes audio at any rate and channel count (downmixed, then resampled to
 * 16 kHz by the WASM Resample kernel) and emits:
 * - `speech_start` once a segment has min_speech_ms of speech, stamped with the
 *   start of its first speech frame;
 * - at the end of a segment (redemption_ms below negative_threshold, a flush or
 *   the end of the stream) the segment's audio (16 kHz mono, with pre_speech_pad_ms
 *   before it) and `speech_end`, stamped with the end of its last speech frame;
 * - with emit_probabilities, a `vad_probability` event per model frame.
 * It lives outside web/core because onnxruntime-web is not a core dependency; it
 * runs in browser workers and in Node.
 */
import type * as Ort from 'onnxruntime-web';
import { z } from 'zod';
import {
  type AudioData,
  defineNode,
  type EventData,
  RemoteMediaError,
  type RuntimeData,
} from '../core/internal.ts';
import { StreamFormat } from '../core/nodes/audio/audio-checks.ts';
import { convertChannels } from '../core/nodes/audio/channel-mix.ts';
import { DspInstance } from '../core/nodes/audio/dsp-module.ts';
import { createResampler, type Resampler } from '../core/nodes/audio/resample-cascade.ts';

export type SileroModel = 'v5' | 'legacy';

/** Where the model and onnxruntime come from: the platform decides (files, fetch). */
export interface SileroAssets {
  loadOrt(): Promise<typeof Ort>;
  loadModel(model: SileroModel): Promise<Uint8Array>;
}

const RATE = 16000;
/** v5 reads 512 new samples with the previous frame's last 64 as context. */
const FRAME = { v5: 512, legacy: 1536 } as const;
const CONTEXT = 64;

interface ModelRunner {
  frameSamples: number;
  /** Speech probability of the next frame (frameSamples samples at 16 kHz). */
  run(frame: Float32Array): Promise<number>;
  reset(): void;
  release(): Promise<void>;
}

const sessions = new Map<SileroModel, Promise<{ ort: typeof Ort; bytes: Uint8Array }>>();

async function createRunner(assets: SileroAssets, model: SileroModel): Promise<ModelRunner> {
  let loaded = sessions.get(model);
  if (!loaded) {
    loaded = Promise.all([assets.loadOrt(), assets.loadModel(model)]).then(([ort, bytes]) => ({
      ort,
      bytes,
    }));
    sessions.set(model, loaded);
  }
  const { ort, bytes } = await loaded;
  const session = await ort.InferenceSession.create(bytes);
  const sr = new ort.Tensor('int64', BigInt64Array.from([16000n]));
  const frameSamples = FRAME[model];
  if (model === 'v5') {
    const input = new Float32Array(CONTEXT + frameSamples);
    const inputTensor = new ort.Tensor('float32', input, [1, input.length]);
    let state: Ort.Tensor = new ort.Tensor('float32', new Float32Array(256), [2, 1, 128]);
    return {
      frameSamples,
      async run(frame) {
        input.copyWithin(0, frameSamples); // the last 64 samples become the context
        input.set(frame, CONTEXT);
        const out = await session.run({ input: inputTensor, state, sr });
        state = out.stateN as Ort.Tensor;
        return (out.output!.data as Float32Array)[0]!;
      },
      reset() {
        input.fill(0);
        state = new ort.Tensor('float32', new Float32Array(256), [2, 1, 128]);
      },
      release: () => session.release(),
    };
  }
  const input = new Float32Array(frameSamples);
  const inputTensor = new ort.Tensor('float32', input, [1, frameSamples]);
  const zeros = (): Ort.Tensor => new ort.Tensor('float32', new Float32Array(128), [2, 1, 64]);
  let h = zeros();
  let c = zeros();
  return {
    frameSamples,
    async run(frame) {
      input.set(frame);
      const out = await session.run({ input: inputTensor, h, c, sr });
      h = out.hn as Ort.Tensor;
      c = out.cn as Ort.Tensor;
      return (out.output!.data as Float32Array)[0]!;
    },
    reset() {
      h = zeros();
      c = zeros();
    },
    release: () => session.release(),
  };
}

const params = z
  .strictObject({
    model: z.enum(['v5', 'legacy']).default('v5'),
    positive_threshold: z.number().min(0).max(1).default(0.5),
    negative_threshold: z.number().min(0).max(1).default(0.35),
    redemption_ms: z.number().min(0).max(10_000).default(500),
    pre_speech_pad_ms: z.number().min(0).max(10_000).default(100),
    min_speech_ms: z.number().min(0).max(10_000).default(250),
    emit_probabilities: z.boolean().default(false),
  })
  .refine((p) => p.negative_threshold <= p.positive_threshold, {
    message: 'negative_threshold must not exceed positive_threshold',
    path: ['negative_threshold'],
  });

export function createSileroVad(assets: SileroAssets) {
  return defineNode({
    type: 'SileroVAD',
    aliases: ['SileroVADNode', 'VADNode'],
    description:
      'Silero speech detection (onnxruntime-web): speech_start / speech_end events and segments.',
    params,
    accepts: ['audio'],
    create(p) {
      const format = new StreamFormat('SileroVAD');
      let runner: ModelRunner;
      let dsp: DspInstance;
      let resampler: Resampler | undefined;
      let resamplerRate = 0;
      let pending = new Float32Array(0); // 16 kHz samples not yet in a model frame
      let frameIndex = 0;
      let startUs = 0;
      // Segmentation state, in model frames.
      let frameSamples = 0;
      let history: Float32Array[] = []; // recent frames: pre-speech pad, then the segment
      let historyStart = 0; // frame index of history[0]
      let speaking = false;
      let confirmed = false;
      let firstSpeech = 0;
      let lastSpeech = 0;
      let speechFrames = 0;
      let quiet = 0;

      const frames = (ms: number) => Math.floor(ms / ((frameSamples / RATE) * 1000));
      const timeUs = (frame: number) => startUs + ((frame * frameSamples) / RATE) * 1e6;
      const event = (name: string, frame: number, payload?: EventData['payload']): EventData =>
        payload === undefined
          ? { kind: 'event', name, timestampUs: timeUs(frame) }
          : { kind: 'event', name, timestampUs: timeUs(frame), payload };

      const endSegment = (out: RuntimeData[]) => {
        if (speaking && confirmed) {
          const from = Math.max(historyStart, firstSpeech - frames(p.pre_speech_pad_ms));
          const parts = history.slice(from - historyStart, lastSpeech + 1 - historyStart);
          const samples = new Float32Array(parts.length * frameSamples);
          parts.forEach((part, i) => {
            samples.set(part, i * frameSamples);
          });
          const segment: AudioData = {
            kind: 'audio',
            samples,
            sampleRate: RATE,
            channels: 1,
            timestampUs: timeUs(from),
          };
          out.push(segment, event('speech_end', lastSpeech + 1));
        }
        speaking = false;
        confirmed = false;
        speechFrames = 0;
        quiet = 0;
      };

      const onFrame = async (frame: Float32Array, out: RuntimeData[]) => {
        const k = frameIndex++;
        const probability = await runner.run(frame);
        if (p.emit_probabilities) out.push(event('vad_probability', k, { probability }));
        history.push(frame);
        if (probability >= p.positive_threshold) {
          if (!speaking) {
            speaking = true;
            firstSpeech = k;
          }
          speechFrames++;
          lastSpeech = k;
          quiet = 0;
          if (!confirmed && speechFrames >= Math.max(1, frames(p.min_speech_ms))) {
            confirmed = true;
            out.push(event('speech_start', firstSpeech));
          }
        } else if (
          speaking &&
          probability < p.negative_threshold &&
          ++quiet >= Math.max(1, frames(p.redemption_ms))
        ) {
          endSegment(out);
        }
        if (!speaking) {
          // Keep only the frames a future segment's pre-speech pad can reach.
          const keep = frames(p.pre_speech_pad_ms);
          if (history.length > keep) {
            historyStart += history.length - keep;
            history = history.slice(history.length - keep);
          }
        }
      };

      /** Cuts 16 kHz samples into model frames; keeps the remainder for the next call. */
      const consume = async (samples: Float32Array): Promise<RuntimeData[]> => {
        const out: RuntimeData[] = [];
        const all = new Float32Array(pending.length + samples.length);
        all.set(pending);
        all.set(samples, pending.length);
        let at = 0;
        for (; at + frameSamples <= all.length; at += frameSamples) {
          await onFrame(all.slice(at, at + frameSamples), out);
        }
        pending = all.slice(at);
        return out;
      };

      return {
        async initialize() {
          [runner, dsp] = await Promise.all([createRunner(assets, p.model), DspInstance.create()]);
          frameSamples = runner.frameSamples;
        },
        async process(input) {
          const audio = input as AudioData;
          if (format.check(audio)) {
            startUs = audio.timestampUs ?? 0;
            if (audio.sampleRate !== RATE && (resamplerRate !== audio.sampleRate || !resampler)) {
              // The Resample node's resampler (half-band stages first for 48 -> 16 kHz).
              resampler = createResampler(audio.sampleRate, RATE, 1, dsp);
              resamplerRate = audio.sampleRate;
            }
          }
          const mono = convertChannels(audio.samples, audio.channels, 1);
          for (let i = 0; i < mono.length; i++) {
            if (mono[i]! - mono[i]! !== 0) {
              throw new RemoteMediaError(
                'invalid_data',
                `SileroVAD received a non-finite sample at index ${i}`,
              );
            }
          }
          return consume(audio.sampleRate === RATE ? mono : resampler!.push(mono));
        },
        async flush() {
          if (format.sampleRate === 0) return undefined;
          const tail =
            format.sampleRate !== RATE && resampler ? resampler.flush() : new Float32Array(0);
          const out = await consume(tail);
          if (pending.length > 0) {
            const last = new Float32Array(frameSamples);
            last.set(pending);
            await onFrame(last, out);
          }
          endSegment(out);
          pending = new Float32Array(0);
          history = [];
          historyStart = 0;
          frameIndex = 0;
          format.reset();
          runner.reset();
          return out;
        },
        async cleanup() {
          await runner?.release();
        },
      };
    },
  });
}
