/** Checks shared by the audio nodes: they throw `invalid_data` errors saying what was expected. */
import { RemoteMediaError } from '../../errors.ts';
import type { AudioData } from '../../runtime-data.ts';

/** Throws on the first NaN or infinite sample: one would smear across a whole filter. */
export function assertFiniteSamples(audio: AudioData, nodeType: string): void {
  const { samples } = audio;
  for (let i = 0; i < samples.length; i++) {
    const v = samples[i]!;
    if (v - v !== 0) {
      throw new RemoteMediaError(
        'invalid_data',
        `${nodeType} received a non-finite sample (${v}) at index ${i}; audio samples must be finite`,
        { path: `samples[${i}]` },
      );
    }
  }
}

/**
 * Remembers the format of a stream's first frame and rejects a later frame whose
 * rate or channel count differs (a stream keeps one format).
 */
export class StreamFormat {
  sampleRate = 0;
  channels = 0;

  constructor(
    private readonly nodeType: string,
    private readonly expectedRate?: number,
  ) {}

  /** Returns true for the first frame of the stream. */
  check(audio: AudioData): boolean {
    if (this.expectedRate !== undefined && audio.sampleRate !== this.expectedRate) {
      throw new RemoteMediaError(
        'invalid_data',
        `${this.nodeType} expects ${this.expectedRate} Hz audio (its source_rate), received ${audio.sampleRate} Hz`,
        { path: 'sampleRate' },
      );
    }
    if (this.sampleRate === 0) {
      this.sampleRate = audio.sampleRate;
      this.channels = audio.channels;
      return true;
    }
    if (audio.sampleRate !== this.sampleRate || audio.channels !== this.channels) {
      throw new RemoteMediaError(
        'invalid_data',
        `${this.nodeType} received ${audio.sampleRate} Hz x ${audio.channels} channels after ${this.sampleRate} Hz x ${this.channels}; a stream keeps one format`,
        { path: audio.sampleRate !== this.sampleRate ? 'sampleRate' : 'channels' },
      );
    }
    return false;
  }

  reset(): void {
    this.sampleRate = 0;
    this.channels = 0;
  }
}
