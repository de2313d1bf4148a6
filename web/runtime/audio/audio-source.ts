/**
 * Live audio sources: the microphone, or a decoded file played at real time. Both
 * go through the "remotemedia-capture" AudioWorklet, which copies each render
 * quantum into an AudioRing; a runtime session reads that ring in the pipeline
 * worker, so live audio never passes through the page's main thread. On a page
 * without SharedArrayBuffer the worklet posts batches of quanta in pooled,
 * transferred buffers instead (see workers/audio-capture.worklet.ts); this side
 * copies each batch out and sends the buffer straight back, and the session relays
 * the audio.
 */
import { type AudioData, RemoteMediaError, RuntimeData } from '../../core/internal.ts';
import { platform } from '../../platform.ts';
import { AudioRingChannelReader } from '../channel/audio-ring-channel.ts';
import { AudioRing, createAudioRingBuffer } from '../ring/audio-ring.ts';
import { loadWorklets } from './worklets.ts';

export interface AudioSource {
  readonly sampleRate: number;
  readonly channels: number;
  /** The ring the worklet writes, on cross-origin isolated pages. */
  readonly ring: SharedArrayBuffer | undefined;
  /** The stream as blocks of about 20 ms, read on this thread (from the ring if there is one). */
  blocks(): AsyncIterable<AudioData>;
  /** Ends the stream: the worklet closes it after the current quantum. */
  stop(): Promise<void>;
  /** Resolves when the stream has ended (stopped, or the file played out). */
  readonly ended: Promise<void>;
  /** Samples the worklet delivered, and samples lost to a full ring. */
  stats(): { written: number; dropped: number };
}

export interface AudioSourceOptions {
  /** A context to use; by default one is made (and closed on stop). */
  context?: AudioContext;
  /** Sample rate of the context made by default; the device's rate otherwise. */
  sampleRate?: number;
  /** How much audio the ring holds before it drops (and counts) samples. Default 2 s. */
  ringSeconds?: number;
  /**
   * Whether the worklet writes a ring (default: when SharedArrayBuffer is there) or
   * posts pooled buffers; false forces the fallback (tests use it).
   */
  useRing?: boolean;
}

/** Opens the microphone (getUserMedia) as a live source. */
export async function openMicrophone(
  options: AudioSourceOptions & { constraints?: MediaTrackConstraints } = {},
): Promise<AudioSource> {
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: options.constraints ?? {
      echoCancellation: false,
      noiseSuppression: false,
      autoGainControl: false,
    },
  });
  const context = options.context ?? new AudioContext(contextOptions(options));
  const node = context.createMediaStreamSource(stream);
  return startCapture(context, node, options, () => {
    for (const track of stream.getTracks()) track.stop();
  });
}

/**
 * Plays decoded audio (a file, a URL, bytes) through the capture worklet at real
 * time; the stream ends when it has played out. For as-fast-as-possible, decode
 * with decodeAudio and send the blocks of audioBlocks into a session instead.
 */
export async function openAudioFile(
  source: Blob | ArrayBuffer | string | AudioData,
  options: AudioSourceOptions & { monitor?: boolean } = {},
): Promise<AudioSource> {
  const context = options.context ?? new AudioContext(contextOptions(options));
  const buffer = isAudioData(source)
    ? audioBufferOf(source)
    : await context.decodeAudioData(await bytesOf(source));
  const node = new AudioBufferSourceNode(context, { buffer });
  if (options.monitor) node.connect(context.destination);
  const capture = await startCapture(context, node, options, () => node.disconnect());
  node.onended = () => void capture.stop();
  node.start();
  return capture;
}

/** Decodes a file to mono audio at `sampleRate` (resampled by the browser). */
export async function decodeAudio(
  source: Blob | ArrayBuffer | string,
  sampleRate: number,
): Promise<AudioData> {
  const bytes = await bytesOf(source);
  const probe = new OfflineAudioContext(1, 1, sampleRate);
  const decoded = await probe.decodeAudioData(bytes);
  const length = Math.ceil(decoded.duration * sampleRate);
  const offline = new OfflineAudioContext(1, length, sampleRate);
  const node = new AudioBufferSourceNode(offline, { buffer: decoded });
  node.connect(offline.destination);
  node.start();
  const rendered = await offline.startRendering();
  return RuntimeData.audio(rendered.getChannelData(0).slice(), sampleRate, 1);
}

/** Cuts audio into blocks of `frames` frames, with timestamps: a session's input. */
export function* audioBlocks(audio: AudioData, frames: number): Generator<AudioData> {
  const step = frames * audio.channels;
  for (let at = 0; at < audio.samples.length; at += step) {
    const timestampUs = Math.round(((at / audio.channels) * 1e6) / audio.sampleRate);
    yield RuntimeData.audio(
      audio.samples.slice(at, at + step),
      audio.sampleRate,
      audio.channels,
      timestampUs,
    );
  }
}

function isAudioData(source: unknown): source is AudioData {
  return typeof source === 'object' && source !== null && (source as AudioData).kind === 'audio';
}

function audioBufferOf(audio: AudioData): AudioBuffer {
  const { samples, channels, sampleRate } = audio;
  const frames = samples.length / channels;
  const buffer = new AudioBuffer({ length: frames, numberOfChannels: channels, sampleRate });
  for (let c = 0; c < channels; c++) {
    const channel = buffer.getChannelData(c);
    for (let i = 0; i < frames; i++) channel[i] = samples[i * channels + c]!;
  }
  return buffer;
}

function contextOptions(options: AudioSourceOptions): AudioContextOptions {
  return options.sampleRate ? { sampleRate: options.sampleRate } : {};
}

async function bytesOf(source: Blob | ArrayBuffer | string): Promise<ArrayBuffer> {
  if (source instanceof ArrayBuffer) return source.slice(0);
  if (typeof source !== 'string') return source.arrayBuffer();
  const response = await fetch(source);
  if (!response.ok) {
    throw new RemoteMediaError(
      'usage',
      `could not fetch audio from ${source}: HTTP ${response.status}`,
    );
  }
  return response.arrayBuffer();
}

/** What the capture worklet posts (its contract: workers/audio-capture.worklet.ts). */
type CaptureMessage =
  | { type: 'blocks'; samples: Float32Array; frames: number; dropped: number }
  | { type: 'ended'; written: number; dropped: number };

async function startCapture(
  context: AudioContext,
  input: AudioNode,
  options: AudioSourceOptions,
  release: () => void,
): Promise<AudioSource> {
  await loadWorklets(context);
  const sampleRate = context.sampleRate;
  const ring =
    (options.useRing ?? platform.sharedArrayBuffer)
      ? createAudioRingBuffer(Math.ceil((options.ringSeconds ?? 2) * sampleRate))
      : undefined;
  const worklet = new AudioWorkletNode(context, 'remotemedia-capture', {
    numberOfInputs: 1,
    numberOfOutputs: 1,
    channelCount: 1,
    channelCountMode: 'explicit',
    channelInterpretation: 'speakers',
    processorOptions: { ring },
  });
  // A silent path to the destination keeps the graph pulling the worklet.
  const mute = new GainNode(context, { gain: 0 });
  input.connect(worklet).connect(mute).connect(context.destination);
  if (context.state === 'suspended') await context.resume();

  const quanta: Float32Array[] = [];
  let notify: (() => void) | undefined;
  let endedFlag = false;
  let delivered = 0;
  let droppedByWorklet = 0;
  const ended = new Promise<void>((resolve) => {
    worklet.port.onmessage = (event: MessageEvent<CaptureMessage>) => {
      const data = event.data;
      if (data.type === 'blocks') {
        // Copy out, then hand the buffer straight back to the worklet's pool.
        quanta.push(data.samples.slice(0, data.frames));
        delivered += data.frames;
        droppedByWorklet = data.dropped;
        const buffer = data.samples.buffer as ArrayBuffer;
        worklet.port.postMessage({ type: 'return', buffer }, [buffer]);
      } else if (data.type === 'ended' && !endedFlag) {
        if (!ring) droppedByWorklet = data.dropped;
        // Once: a stop and the end of a file may both report the end.
        endedFlag = true;
        worklet.disconnect();
        mute.disconnect();
        release();
        if (!options.context && context.state !== 'closed') void context.close().catch(() => {});
        resolve();
      }
      notify?.();
    };
  });
  const view = ring ? new AudioRing(ring) : undefined;

  return {
    sampleRate,
    channels: 1,
    ring,
    ended,
    async *blocks() {
      // About 20 ms per block, not one message per 128-frame quantum downstream.
      const target = Math.round(sampleRate / 50);
      if (ring) {
        const reader = new AudioRingChannelReader({
          kind: 'audio-ring',
          buffer: ring,
          sampleRate,
          channels: 1,
          blockFrames: target,
        });
        for (let block = await reader.read(); block; block = await reader.read()) {
          yield block as AudioData;
        }
        return;
      }
      let pending: Float32Array[] = [];
      let size = 0;
      let at = 0;
      const flush = () => {
        const samples = new Float32Array(size);
        let offset = 0;
        for (const q of pending) {
          samples.set(q, offset);
          offset += q.length;
        }
        const block = RuntimeData.audio(
          samples,
          sampleRate,
          1,
          Math.round((at * 1e6) / sampleRate),
        );
        at += size;
        pending = [];
        size = 0;
        return block;
      };
      for (;;) {
        while (quanta.length > 0) {
          const q = quanta.shift()!;
          pending.push(q);
          size += q.length;
          if (size >= target) yield flush();
        }
        if (endedFlag) break;
        await new Promise<void>((resolve) => {
          notify = resolve;
        });
      }
      if (size > 0) yield flush();
    },
    async stop() {
      if (!endedFlag) worklet.port.postMessage('stop');
      await ended;
    },
    stats: () => ({
      written: view ? view.written : delivered,
      dropped: view ? view.droppedSamples : droppedByWorklet,
    }),
  };
}
