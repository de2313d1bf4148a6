/**
 * Test page: barge-in for real. The fake capture device plays silence, then speech;
 * meanwhile a long reply, synthesized by TextToSpeech on the gateway, plays through
 * AudioPlayback. EnergyVAD's speech_start (pipeline worker) interrupts, by the
 * manifest's `bargeIn` alone, the synthesis on the gateway and the speaker on this
 * page (or SileroVAD's, which also reports each model frame's probability, so the
 * test can tell the frame at which its speech_start became known). Microphone and speaker share one AudioContext, so the worklet's drop record
 * (the microphone ring's position at the quantum that went silent) and the VAD's
 * event are in one audio clock: the latency is measured there, not by timers.
 */
import { z } from 'zod';
import {
  type AudioData,
  AudioPlayback,
  createRuntime,
  defineNode,
  type Manifest,
  openMicrophone,
} from '../../../web/index.ts';
import type { PlaybackDrops } from '../../../web/runtime/audio/playback-control.ts';

const RATE = 16_000;
const MIN_SPEECH_MS = 100;
const BUFFER_SECONDS = 3;
const REPLY = Array.from(
  { length: 200 },
  (_, i) => `This is sentence ${i + 1} of a long reply that keeps on talking for a while.`,
).join(' ');

export type VadKind = 'energy' | 'silero';

export interface BargeInResult {
  /** The VAD's speech_start timestamps (µs of microphone audio). */
  speechStarts: number[];
  /** SileroVAD only: each model frame's start (µs) and speech probability. */
  probabilities: [number, number][];
  drops: PlaybackDrops;
  /** Reply samples written to the speaker before / after its interrupt. */
  played: number;
  chunksAfterInterrupt: number;
  interrupts: number;
  /** Microphone samples lost to a full ring (must be none: its count is the clock). */
  micDropped: number;
  ringDirect: boolean;
}

async function runBargeIn(
  gateway: { port: number; token: string },
  vad: VadKind = 'energy',
): Promise<BargeInResult> {
  const context = new AudioContext({ sampleRate: RATE, latencyHint: 'interactive' });
  const mic = await openMicrophone({ context, ringSeconds: 15 });
  let playback: AudioPlayback | undefined;
  let played = 0;
  let interrupted = false;
  let interrupts = 0;
  let chunksAfterInterrupt = 0;
  let onInterrupt: () => void = () => {};
  const interruptedOnce = new Promise<void>((resolve) => (onInterrupt = resolve));

  const speaker = defineNode({
    type: 'TestSpeaker',
    params: z.strictObject({}),
    accepts: ['audio'],
    create: () => ({
      async process(input) {
        const audio = input as AudioData;
        if (interrupted) chunksAfterInterrupt++;
        playback ??= await AudioPlayback.open({
          sampleRate: RATE,
          context,
          bufferSeconds: BUFFER_SECONDS,
          clock: mic.ring,
        });
        // Wait for room, as a speaker does: the reply is paced by playback, so its
        // synthesis is still running when the user speaks.
        while (!interrupted && playback.queued + audio.samples.length > BUFFER_SECONDS * RATE) {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        if (interrupted) return;
        played += playback.write(audio);
      },
      interrupt() {
        interrupts++;
        playback?.interrupt();
        interrupted = true;
        onInterrupt();
      },
    }),
  });
  /**
   * The "reply": one long text as soon as the microphone is live (EnergyVAD passes
   * its audio on; SileroVAD's first sign of life is a probability event). It keeps
   * the VAD's events to itself: the page reads them from the `probe` sink.
   */
  const reply = defineNode({
    type: 'TestReply',
    params: z.strictObject({}),
    accepts: ['audio', 'event'],
    create: () => {
      let said = false;
      return {
        process() {
          if (said) return undefined;
          said = true;
          return { kind: 'text', text: REPLY } as const;
        },
      };
    },
  });

  const remote = { host: '127.0.0.1', port: gateway.port };
  const manifest: Manifest = {
    version: 'v1',
    metadata: { name: 'barge-in' },
    nodes: [
      vad === 'energy'
        ? {
            id: 'vad',
            node_type: 'EnergyVAD',
            params: { threshold_db: -35, min_speech_ms: MIN_SPEECH_MS, hangover_ms: 300 },
          }
        : {
            id: 'vad',
            node_type: 'SileroVAD',
            params: { min_speech_ms: MIN_SPEECH_MS, emit_probabilities: true },
          },
      { id: 'reply', node_type: 'TestReply', params: {}, executor: 'main' },
      {
        id: 'tts',
        node_type: 'TextToSpeech',
        // Short pieces: one espeak-ng run each, so the synthesis outlasts the silence.
        params: { sample_rate: RATE, chunk_ms: 100, max_piece_chars: 40 },
        executor: 'remote',
        remote,
      },
      { id: 'speaker', node_type: 'TestSpeaker', params: {}, executor: 'main' },
      { id: 'probe', node_type: 'PassThrough', params: {}, executor: 'main' },
    ],
    connections: [
      { from: 'vad', to: 'probe' },
      { from: 'vad', to: 'reply' },
      { from: 'reply', to: 'tts' },
      { from: 'tts', to: 'speaker' },
    ],
    bargeIn: { from: 'vad', on: 'speech_start', to: ['tts', 'speaker'] },
  };

  const runtime = await createRuntime({
    nodes: [speaker, reply],
    gateway: { token: gateway.token },
  });
  const session = await runtime.stream(manifest, { input: mic });
  const speechStarts: number[] = [];
  const probabilities: [number, number][] = [];
  const reading = (async () => {
    for await (const { data } of session) {
      if (data.kind !== 'event') continue;
      if (data.name === 'speech_start') speechStarts.push(data.timestampUs!);
      if (data.name === 'vad_probability') {
        const { probability } = data.payload as { probability: number };
        probabilities.push([data.timestampUs!, probability]);
      }
    }
  })();
  // Not a timed assertion: a run where no interrupt came ends, and the test says what it saw.
  await Promise.race([interruptedOnce, new Promise((resolve) => setTimeout(resolve, 20_000))]);
  // The worklet drops at its next quantum; the gateway answers the cancel meanwhile.
  while (playback && playback.drops().done < playback.drops().requested) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  // Give stale chunks every chance to show up (they must not), then end the run.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  await session.close().catch(() => {});
  await reading.catch((error: unknown) => console.error(`the session failed: ${String(error)}`));
  const drops = playback?.drops();
  await playback?.close();
  runtime.dispose();
  await context.close();
  return {
    speechStarts,
    probabilities,
    drops: drops!,
    played,
    chunksAfterInterrupt,
    interrupts,
    micDropped: mic.stats().dropped,
    ringDirect: mic.ring !== undefined,
  };
}

(globalThis as { runBargeIn?: typeof runBargeIn }).runBargeIn = runBargeIn;
