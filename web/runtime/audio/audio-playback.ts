/**
 * A playback sink: the page writes audio into an AudioRing and the
 * "remotemedia-playback" AudioWorklet plays it, copying one render quantum at a
 * time. Audio must arrive at the context's rate and channel count: a mismatch is a
 * typed error, never a wrong pitch.
 */
import { type AudioData, RemoteMediaError } from '../../core/internal.ts';
import { platform } from '../../platform.ts';
import { AudioRing, createAudioRingBuffer } from '../ring/audio-ring.ts';
import { loadWorklets } from './worklets.ts';

export interface PlaybackOptions {
  sampleRate: number;
  /** 1 (mono, played on every speaker) or 2 (interleaved stereo). Default 1. */
  channels?: number;
  context?: AudioContext;
  /** Audio the ring holds ahead of the speaker. Default 2 s. */
  bufferSeconds?: number;
}

export class AudioPlayback {
  private readonly ringView: AudioRing;

  private constructor(
    readonly context: AudioContext,
    private readonly node: AudioWorkletNode,
    ring: SharedArrayBuffer,
    readonly sampleRate: number,
    readonly channels: number,
    private readonly ownsContext: boolean,
  ) {
    this.ringView = new AudioRing(ring);
  }

  static async open(options: PlaybackOptions): Promise<AudioPlayback> {
    if (!platform.sharedArrayBuffer) {
      throw new RemoteMediaError(
        'usage',
        'playback needs SharedArrayBuffer: serve the page with COOP: same-origin and COEP: require-corp',
      );
    }
    const channels = options.channels ?? 1;
    if (channels !== 1 && channels !== 2) {
      throw new RemoteMediaError('usage', `playback channels must be 1 or 2, found ${channels}`);
    }
    const context = options.context ?? new AudioContext({ sampleRate: options.sampleRate });
    if (context.sampleRate !== options.sampleRate) {
      throw new RemoteMediaError(
        'usage',
        `the playback context runs at ${context.sampleRate} Hz, not ${options.sampleRate} Hz; resample first (Resample node)`,
      );
    }
    await loadWorklets(context);
    const ring = createAudioRingBuffer(
      Math.ceil((options.bufferSeconds ?? 2) * options.sampleRate * channels),
    );
    const node = new AudioWorkletNode(context, 'remotemedia-playback', {
      numberOfInputs: 0,
      numberOfOutputs: 1,
      outputChannelCount: [channels],
      processorOptions: { ring, channels },
    });
    node.connect(context.destination);
    if (context.state === 'suspended') await context.resume();
    return new AudioPlayback(context, node, ring, options.sampleRate, channels, !options.context);
  }

  /** Queues audio to play; returns the samples taken (the rest is dropped and counted). */
  write(audio: AudioData): number {
    if (audio.sampleRate !== this.sampleRate || audio.channels !== this.channels) {
      throw new RemoteMediaError(
        'invalid_data',
        `playback expects ${this.channels}-channel audio at ${this.sampleRate} Hz, received ${audio.channels} channel(s) at ${audio.sampleRate} Hz`,
      );
    }
    return this.ringView.write(audio.samples);
  }

  /** Samples queued and not yet played. */
  get queued(): number {
    return this.ringView.available();
  }

  stats(): { dropped: number; underrun: number } {
    return { dropped: this.ringView.droppedSamples, underrun: this.ringView.underrunSamples };
  }

  /** Plays what is queued, then stops. */
  end(): void {
    this.ringView.close();
  }

  /** Stops at once and frees the audio graph. */
  async close(): Promise<void> {
    this.ringView.close();
    this.node.disconnect();
    if (this.ownsContext && this.context.state !== 'closed') await this.context.close();
  }
}
