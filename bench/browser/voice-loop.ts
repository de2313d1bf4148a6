/**
 * Voice loop benchmark page: the studio's voice-loop manifest (web/app/studio/voice-loop.ts)
 * with SpeechToText on a real gateway, fed a spoken command in real time (20 ms
 * blocks paced by the clock, as a microphone delivers them). Its `Speaker` is a probe
 * page node that notes when each reply's first synthesized chunk arrives; the
 * latency is from the instant of the utterance's last audible sample (its position
 * on the paced clock) to that arrival, plus the audio output latency the page's
 * AudioContext reports (what the speaker would add).
 * Also: browser TextToSpeech (flite) time to first audio and real-time factor.
 */
import { z } from 'zod';
import {
  createRuntime,
  defineNode,
  type Manifest,
  type RemoteConfig,
  RuntimeData,
} from '../../web/index.ts';
import { DEFAULT_REPLY_SOURCE, voiceLoopManifest } from '../../web/app/studio/voice-loop.ts';

const RATE = 16000;
const BLOCK = 320; // 20 ms

interface Config {
  name: string;
  vad: Record<string, unknown>;
  /** TextToSpeech on the gateway (espeak-ng) instead of the browser (flite). */
  ttsOnGateway?: boolean;
}

interface Input {
  samples: string; // base64 float32, 16 kHz, one turn: speech then silence
  audibleEnd: number; // index after the last audible sample
  gateway: RemoteConfig;
  token: string;
  turns: number;
  configs: Config[];
  bargeIn: boolean;
}

function decode(base64: string): Float32Array {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  return new Float32Array(bytes.buffer);
}

const sleepUntil = (at: number) =>
  new Promise((resolve) => setTimeout(resolve, Math.max(0, at - performance.now())));

async function runVoiceLoopBench(input: Input) {
  const turn = decode(input.samples);
  let onAudio: ((atMs: number) => void) | undefined;
  const probe = defineNode({
    type: 'Speaker',
    params: z.strictObject({}),
    accepts: ['audio'],
    create: () => ({
      process() {
        onAudio?.(performance.now());
      },
    }),
  });
  const context = new AudioContext({ sampleRate: RATE, latencyHint: 'interactive' });
  const outputLatencyMs = ((context.outputLatency || 0) + (context.baseLatency || 0)) * 1000;
  await context.close();
  const runtime = await createRuntime({ nodes: [probe], gateway: { token: input.token } });
  await runtime.warmPython();
  const results: Record<string, { latencyMs: number[]; heard: string[] }> = {};
  for (const config of input.configs) {
    const base = voiceLoopManifest(DEFAULT_REPLY_SOURCE, 'commands');
    const manifest: Manifest = {
      ...base,
      // Barge-in does not act on a single turn's latency; input.bargeIn keeps it.
      ...(input.bargeIn ? {} : { bargeIn: undefined }),
      gateway: input.gateway,
      nodes: base.nodes.map((n) =>
        n.id === 'vad'
          ? { ...n, params: { ...n.params, ...config.vad } }
          : // SpeechToText has a browser engine now; this bench measures the gateway's.
            n.id === 'stt'
            ? { ...n, remote: input.gateway }
            : n.id === 'tts' && config.ttsOnGateway
              ? { ...n, remote: input.gateway }
              : n,
      ),
    };
    const session = await runtime.stream(manifest);
    const heard: string[] = [];
    const reader = (async () => {
      for await (const { nodeId, data } of session) {
        if (nodeId === 'heard' && data.kind === 'text') heard.push(data.text);
      }
    })();
    const latencyMs: number[] = [];
    // One warm-up turn (first grammar load on the gateway, first flite compile).
    for (let t = 0; t <= input.turns; t++) {
      let firstAudio: number | undefined;
      let lastAudio = 0;
      onAudio = (at) => {
        firstAudio ??= at;
        lastAudio = at;
      };
      const t0 = performance.now();
      for (let at = 0; at < turn.length; at += BLOCK) {
        // A block is delivered once its last sample has been "captured".
        await sleepUntil(t0 + ((at + BLOCK) / RATE) * 1000);
        await session.sendInput(
          RuntimeData.audio(turn.slice(at, at + BLOCK), RATE, 1, (at / RATE) * 1e6),
        );
      }
      // Wait for the reply to finish (no audio for 1 s) before the next turn.
      const deadline = performance.now() + 15_000;
      while (performance.now() < deadline) {
        await sleepUntil(performance.now() + 100);
        if (firstAudio !== undefined && performance.now() - lastAudio > 1000) break;
      }
      if (firstAudio === undefined) throw new Error(`${config.name}: no reply to turn ${t}`);
      const lastAudible = t0 + (input.audibleEnd / RATE) * 1000;
      if (t > 0) latencyMs.push(firstAudio - lastAudible + outputLatencyMs);
    }
    onAudio = undefined;
    await session.close();
    await reader;
    results[config.name] = { latencyMs, heard };
  }

  // Browser TextToSpeech alone: time to first audio chunk, and real-time factor,
  // with flite's default voice (kal16) and its best-sounding one (slt).
  const sentence = 'The quarterly report shows that sales grew in every region this year.';
  const ttsRuns: Record<string, { firstMs: number; totalMs: number; audioS: number }[]> = {};
  for (const voice of ['kal16', 'slt']) {
    const tts: Manifest = {
      version: 'v1',
      metadata: { name: 'flite' },
      nodes: [{ id: 'tts', node_type: 'TextToSpeech', params: { sample_rate: 16000, voice } }],
      connections: [],
    };
    const runs: { firstMs: number; totalMs: number; audioS: number }[] = [];
    for (let r = 0; r < 6; r++) {
      const session = await runtime.stream(tts);
      const started = performance.now();
      await session.sendInput(RuntimeData.text(sentence));
      void session.close();
      let firstMs: number | undefined;
      let samples = 0;
      for await (const { data } of session) {
        firstMs ??= performance.now() - started;
        if (data.kind === 'audio') samples += data.samples.length;
      }
      if (r > 0) {
        runs.push({
          firstMs: firstMs!,
          totalMs: performance.now() - started,
          audioS: samples / RATE,
        });
      }
    }
    ttsRuns[voice] = runs;
  }
  runtime.dispose();
  return { results, outputLatencyMs, ttsRuns, sentence };
}

(window as unknown as { runVoiceLoopBench: typeof runVoiceLoopBench }).runVoiceLoopBench =
  runVoiceLoopBench;
