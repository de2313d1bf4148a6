/**
 * Test page: barge-in for real. The fake capture device plays silence, then speech;
 * meanwhile a long reply, synthesized by TextToSpeech on the gateway, plays through
 * AudioPlayback. EnergyVAD's speech_start (pipeline worker) interrupts, by the
 * manifest's `bargeIn` alone, the synthesis on the gateway and the speaker on this
 * page. Microphone and speaker share one AudioContext, so the worklet's drop record
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
const REPLY = Array.from(
  { length: 12 },
  (_, i) => `This is sentence ${i + 1} of a long reply that keeps on talking for a while.`,
).join(' ');

export interface BargeInResult {
  /** EnergyVAD's speech_start timestamps (µs of microphone audio). */
  speechStarts: number[];
  drops: PlaybackDrops;
  /** Reply samples written to the speaker before / after its interrupt. */
  played: number;
  chunksAfterInterrupt: number;
  interrupts: number;
  /** Microphone samples lost to a full ring (must be none: its count is the clock). */
  micDropped: number;
  ringDirect: boolean;
}

async function runBargeIn(gateway: { port: number; token: string }): Promise<BargeInResult> {
  const context = new AudioContext({ sampleRate: RATE, latencyHint: 'interactive' });
  const mic = await openMicrophone({ context, ringSeconds: 4 });
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
          bufferSeconds: 120,
          clock: mic.ring,
        });
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
  /** The "reply": one long text as soon as the microphone is live. */
  const reply = defineNode({
    type: 'TestReply',
    params: z.strictObject({}),
    accepts: ['audio'],
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
      {
        id: 'vad',
        node_type: 'EnergyVAD',
        params: { threshold_db: -35, min_speech_ms: MIN_SPEECH_MS, hangover_ms: 300 },
      },
      { id: 'reply', node_type: 'TestReply', params: {}, executor: 'main' },
      {
        id: 'tts',
        node_type: 'TextToSpeech',
        params: { sample_rate: RATE, chunk_ms: 100 },
        executor: 'remote',
        remote,
      },
      { id: 'speaker', node_type: 'TestSpeaker', params: {}, executor: 'main' },
    ],
    connections: [
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
  const reading = (async () => {
    for await (const { data } of session) {
      if (data.kind === 'event' && data.name === 'speech_start')
        speechStarts.push(data.timestampUs!);
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
  await reading.catch(() => {});
  const drops = playback?.drops();
  await playback?.close();
  runtime.dispose();
  await context.close();
  return {
    speechStarts,
    drops: drops!,
    played,
    chunksAfterInterrupt,
    interrupts,
    micDropped: mic.stats().dropped,
    ringDirect: mic.ring !== undefined,
  };
}

(globalThis as { runBargeIn?: typeof runBargeIn }).runBargeIn = runBargeIn;
