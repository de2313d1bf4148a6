import { z } from 'zod';
import { RemoteMediaError } from '../../errors.ts';
import { defineNode } from '../../node-contract.ts';
import type { AudioData, BinaryData, RuntimeData, TensorData } from '../../runtime-data.ts';
import { assertFiniteSamples } from './audio-checks.ts';
import { convertChannels } from './channel-mix.ts';
import { DspInstance, DspScratch } from './dsp-module.ts';

/** The mime type of int16 little-endian PCM, carrying its rate and channel count. */
export function pcm16MimeType(sampleRate: number, channels: number): string {
  return `audio/pcm;format=s16le;rate=${sampleRate};channels=${channels}`;
}

function mimeParam(mimeType: string | undefined, name: string): number | undefined {
  const match = mimeType?.match(new RegExp(`(?:^|;)\\s*${name}=(\\d+)`));
  return match ? Number(match[1]) : undefined;
}

const invalid = (message: string, path?: string) =>
  new RemoteMediaError('invalid_data', `FormatConvert ${message}`, path ? { path } : {});

/**
 * Converts between sample formats and layouts: float32 audio, int16 PCM (binary,
 * little-endian) and planar float32 (a [channels, frames] tensor); optionally
 * downmixes to mono or upmixes mono.
 */
export const FormatConvert = defineNode({
  type: 'FormatConvert',
  aliases: ['FormatConverterNode'],
  description: 'Converts float32 audio <-> int16 PCM <-> planar tensors; downmix/upmix.',
  params: z.strictObject({
    to: z.enum(['float32', 'int16', 'planar']).default('float32'),
    channels: z.int().min(1).max(64).optional(),
    /** Rate and channels of int16 or planar input, unless its mime type says. */
    sample_rate: z.int().min(1).max(384_000).optional(),
    input_channels: z.int().min(1).max(64).optional(),
  }),
  accepts: ['audio', 'binary', 'tensor'],
  create({ to, channels, sample_rate, input_channels }) {
    let dsp: DspInstance;
    let floats: DspScratch;
    let ints: DspScratch;

    const toAudio = (input: RuntimeData): AudioData => {
      if (input.kind === 'audio') return input;
      if (input.kind === 'binary') return fromPcm16(input);
      return fromPlanar(input as TensorData);
    };

    const fromPcm16 = (input: BinaryData): AudioData => {
      const rate = mimeParam(input.mimeType, 'rate') ?? sample_rate;
      const count = mimeParam(input.mimeType, 'channels') ?? input_channels ?? 1;
      if (rate === undefined) {
        throw invalid(
          'needs the rate of int16 input: set params.sample_rate or a mime type with rate=',
        );
      }
      const { bytes } = input;
      if (bytes.length % 2 !== 0) {
        throw invalid(
          `received ${bytes.length} bytes of int16 PCM: an odd byte count`,
          'bytes.length',
        );
      }
      const n = bytes.length / 2;
      if (n % count !== 0) {
        throw invalid(
          `received ${n} int16 samples, which do not divide into ${count} channels`,
          'bytes.length',
        );
      }
      const source = ints.f32(Math.ceil(n / 2));
      new Uint8Array(source.buffer, source.byteOffset, bytes.length).set(bytes);
      const out = floats.f32(n);
      dsp.exports.int16ToFloat(ints.pointer, floats.pointer, n);
      return { kind: 'audio', samples: out.slice(), sampleRate: rate, channels: count };
    };

    const fromPlanar = (input: TensorData): AudioData => {
      if (input.dtype !== 'float32' || input.shape.length !== 2) {
        throw invalid(
          `expects a float32 [channels, frames] tensor, received ${input.dtype} [${input.shape.join(', ')}]`,
        );
      }
      if (sample_rate === undefined)
        throw invalid('needs params.sample_rate to read planar tensors');
      const [count, frames] = input.shape as [number, number];
      const samples = new Float32Array(count * frames);
      for (let c = 0; c < count; c++) {
        for (let i = 0; i < frames; i++) samples[i * count + c] = input.data[c * frames + i]!;
      }
      return { kind: 'audio', samples, sampleRate: sample_rate, channels: count };
    };

    return {
      async initialize() {
        dsp = await DspInstance.create();
        floats = new DspScratch(dsp);
        ints = new DspScratch(dsp);
      },
      process(input) {
        const audio = toAudio(input);
        assertFiniteSamples(audio, 'FormatConvert');
        const count = channels ?? audio.channels;
        const samples = convertChannels(audio.samples, audio.channels, count);
        const time = audio.timestampUs === undefined ? {} : { timestampUs: audio.timestampUs };
        if (to === 'float32') {
          return { kind: 'audio', samples, sampleRate: audio.sampleRate, channels: count, ...time };
        }
        if (to === 'planar') {
          const frames = samples.length / count;
          const data = new Float32Array(samples.length);
          for (let c = 0; c < count; c++) {
            for (let i = 0; i < frames; i++) data[c * frames + i] = samples[i * count + c]!;
          }
          return { kind: 'tensor', dtype: 'float32', shape: [count, frames], data, ...time };
        }
        const n = samples.length;
        floats.f32(n).set(samples);
        const target = ints.f32(Math.ceil(n / 2));
        dsp.exports.floatToInt16(floats.pointer, ints.pointer, n);
        const bytes = new Uint8Array(target.buffer, target.byteOffset, n * 2).slice();
        return { kind: 'binary', bytes, mimeType: pcm16MimeType(audio.sampleRate, count), ...time };
      },
    };
  },
});
