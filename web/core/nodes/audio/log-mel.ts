import { z } from 'zod';
import { RemoteMediaError } from '../../errors.ts';
import { defineNode } from '../../node-contract.ts';
import type { AudioData, TensorData } from '../../runtime-data.ts';
import { assertFiniteSamples, StreamFormat } from './audio-checks.ts';
import { DspInstance } from './dsp-module.ts';
import { LogMelAnalyzer, wasmMelKernel, whisperScale } from './log-mel-analyzer.ts';
import { WHISPER_HOP, WHISPER_SAMPLE_RATE } from './mel-filterbank.ts';

/**
 * Whisper-compatible log-mel spectrogram of 16 kHz mono audio (n_fft 400, hop 160,
 * Slaney mel filters, log10 with Whisper's clamp and scaling), as float32 tensors of
 * shape [n_mels, frames]. mode "utterance" emits one tensor per stream at its end,
 * clamped against the stream's maximum exactly as Whisper does; mode "stream" emits
 * frames as they complete, clamped against the maximum so far.
 */
export const LogMel = defineNode({
  type: 'LogMel',
  aliases: ['LogMelSpectrogram', 'WhisperLogMel'],
  description: 'Whisper log-mel spectrogram of 16 kHz mono audio, as [n_mels, frames] tensors.',
  params: z.strictObject({
    n_mels: z.union([z.literal(80), z.literal(128)]).default(80),
    mode: z.enum(['stream', 'utterance']).default('stream'),
  }),
  accepts: ['audio'],
  create({ n_mels, mode }) {
    const format = new StreamFormat('LogMel', WHISPER_SAMPLE_RATE);
    let analyzer: LogMelAnalyzer;
    let max = Number.NEGATIVE_INFINITY;
    let gathered: Float32Array[] = [];
    let framesOut = 0;
    let startUs: number | undefined;

    const tensor = (frameMajor: Float32Array, frameMax: number): TensorData | undefined => {
      const frames = frameMajor.length / n_mels;
      if (frames === 0) return undefined;
      const data = new Float32Array(frameMajor.length);
      for (let t = 0; t < frames; t++) {
        for (let m = 0; m < n_mels; m++) data[m * frames + t] = frameMajor[t * n_mels + m]!;
      }
      whisperScale(data, frameMax);
      const out: TensorData = { kind: 'tensor', dtype: 'float32', shape: [n_mels, frames], data };
      if (startUs !== undefined)
        out.timestampUs = startUs + ((framesOut * WHISPER_HOP) / WHISPER_SAMPLE_RATE) * 1e6;
      framesOut += frames;
      return out;
    };

    const emit = (values: Float32Array): TensorData | undefined => {
      for (let i = 0; i < values.length; i++) if (values[i]! > max) max = values[i]!;
      if (mode === 'stream') return tensor(values, max);
      gathered.push(values);
      return undefined;
    };

    return {
      async initialize() {
        analyzer = new LogMelAnalyzer(n_mels, wasmMelKernel(n_mels, await DspInstance.create()));
      },
      process(input) {
        const audio = input as AudioData;
        assertFiniteSamples(audio, 'LogMel');
        if (format.check(audio)) {
          if (audio.channels !== 1) {
            throw new RemoteMediaError(
              'invalid_data',
              `LogMel expects mono audio, received ${audio.channels} channels (put FormatConvert with channels: 1 before it)`,
              { path: 'channels' },
            );
          }
          startUs = audio.timestampUs;
          framesOut = 0;
        }
        return emit(analyzer.push(audio.samples));
      },
      flush() {
        if (format.sampleRate === 0) return undefined;
        let out = emit(analyzer.finish());
        if (mode === 'utterance') {
          const all = new Float32Array(gathered.reduce((n, g) => n + g.length, 0));
          let at = 0;
          for (const part of gathered) {
            all.set(part, at);
            at += part.length;
          }
          out = tensor(all, max);
        }
        gathered = [];
        max = Number.NEGATIVE_INFINITY;
        format.reset();
        return out;
      },
    };
  },
});
