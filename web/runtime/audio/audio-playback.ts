/**
 * A playback sink: the page writes audio into an AudioRing and the
 * "remotemedia-playback" AudioWorklet plays it, copying one render quantum at a
 * time. Audio must arrive at the context's rate and channel count: a mismatch is a
 * typed error, never a wrong pitch. `interrupt()` (barge-in) empties the queue from
 * the worklet's next render quantum (playback-control.ts).
 */
import { type AudioData, RemoteMediaError } from '../../core/internal.ts';
import { platform } from '../../platform.ts';
import { AudioRing, createAudioRingBuffer } from '../ring/audio-ring.ts';
import {
  createPlaybackControl,
  type PlaybackDrops,
  readDrops,
  requestDrop,
} from './playback-control.ts';
import { loadWorklets } from './worklets.ts';

export interface PlaybackOptions {
  sampleRate: number;
  /** 1 (mono, played on every speaker) or 2 (interleaved stereo). Default 1. */
  channels?: number;
  context?: AudioContext;
  /** Audio the ring holds ahead of the speaker. Default 2 s. */
  bufferSeconds?: number;
  /**
   * An AudioRing in the same AudioContext (a microphone's, AudioSource.ring) whose
   * written count the worklet notes at each drop: where the capture stood, in the
   * same audio clock, when playback stopped (tests measure barge-in latency so).
   */
  clock?: SharedArrayBuffer;
}

export class AudioPlayback {
  private readonly ringView: AudioRing;
  private readonly controlView: Int32Array;

  private constructor(
    readonly context: AudioContext,
    private readonly node: AudioWorkletNode,
    ring: SharedArrayBuffer,
    control: SharedArrayBuffer,
    readonly sampleRate: number,
    readonly channels: number,
    private readonly ownsContext: boolean,
  ) {
    this.ringView = new AudioRing(ring);
    this.controlView = new Int32Array(control);
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
    const control = createPlaybackControl();
    const node = new AudioWorkletNode(context, 'remotemedia-playback', {
      numberOfInputs: 0,
      numberOfOutputs: 1,
      outputChannelCount: [channels],
      processorOptions: { ring, channels, control, clock: options.clock },
    });
    node.connect(context.destination);
    if (context.state === 'suspended') await context.resume();
    return new AudioPlayback(
      context,
      node,
      ring,
      control,
      options.sampleRate,
      channels,
      !options.context,
    );
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

  /**
   * Barge-in: drops everything queued; the worklet does it at the start of its next
   * render quantum, so the speaker is silent from then on (audio written after this
   * call plays as usual). Page thread; never blocks, allocates nothing.
   */
  interrupt(): void {
    requestDrop(this.controlView);
  }

  /** The drops so far, as the worklet recorded them (audio-clock frames). */
  drops(): PlaybackDrops {
    return readDrops(this.controlView);
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
