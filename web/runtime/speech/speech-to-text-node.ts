/**
 * SpeechToText for the browser's pipeline worker: the same node type, params,
 * outputs and errors as the gateway's (python-packages/remotemedia/nodes/speech/
 * speech_to_text.py), with the engine behind a seam (speech-recognizer.ts).
 *
 * Per utterance: a `text` frame stamped with its first word's start, then a
 * `transcript` event {text, start_us, end_us, words, mode}; `partial_transcript`
 * events {text} between 100 ms pieces when `partials`. An utterance with no words
 * (silence, noise, empty audio) gives no text, only a transcript event whose text
 * is empty — never an error. Times are on the stream's clock: the input frames'
 * timestamps, else the samples counted.
 */
import { z } from 'zod';
import {
  type AudioData,
  defineNode,
  type NodeContext,
  RemoteMediaError,
  RuntimeData,
} from '../../core/internal.ts';
import { SpeechToText } from '../../core/nodes/speech/speech-nodes.ts';
import { GrammarError, keywordsGrammar, parseJsgf } from './jsgf-grammar.ts';
import type { Recognizer, RecognizerFactory, Transcript } from './speech-recognizer.ts';

/** Audio goes to the engine in pieces this long; partials come between them. */
const PIECE_S = 0.1;
/** A silent open utterance is restarted after this long, so memory stays bounded. */
const IDLE_RESTART_S = 10;

interface Params {
  engine?: string;
  grammar?: string;
  keywords?: string[];
  endpointing?: 'input' | 'silence';
  partials?: boolean;
  transcript_events?: boolean;
  engine_options?: Record<string, unknown>;
}

/**
 * The gateway's schema, plus the grammar checked here: a grammar that does not
 * parse is a manifest issue at `nodes[i].params.grammar` ("grammar line N: ..."),
 * before any engine loads. Words missing from the engine's dictionary are found
 * when the engine loads (initialize), also naming their line.
 */
const params = SpeechToText.params.superRefine((raw, issues) => {
  const p = raw as Params;
  try {
    if (p.grammar !== undefined) parseJsgf(p.grammar);
    if (p.keywords !== undefined) keywordsGrammar(p.keywords);
  } catch (error) {
    if (!(error instanceof GrammarError)) throw error;
    issues.addIssue({
      code: 'custom',
      message: error.message,
      path: p.grammar !== undefined ? ['grammar'] : ['keywords'],
    });
  }
}) as unknown as z.ZodType<Params>;

export interface SpeechToTextOptions {
  /**
   * Recognition engines by name; the first is the default (when `engine` is not
   * given). Read when each node is created, so engines added to this object later
   * (the pipeline worker adds its node modules' `speechToTextEngines`) are used.
   */
  engines: Readonly<Record<string, RecognizerFactory>>;
}

export function createSpeechToText({ engines }: SpeechToTextOptions) {
  return defineNode<Params>({
    type: SpeechToText.type,
    description: `${SpeechToText.description} In the browser: ${Object.keys(engines).join(', ')}.`,
    params,
    accepts: ['audio'],
    create(p, context) {
      const names = Object.keys(engines);
      const engine = p.engine ?? names[0];
      const factory = engine === undefined ? undefined : engines[engine];
      if (factory === undefined) {
        throw new RemoteMediaError(
          'usage',
          `${context.nodeId}: params.engine: no recognition engine named "${p.engine}" in the browser; registered: ${names.join(', ') || 'none'} (give the node "remote" to run it on a gateway)`,
          { nodeId: context.nodeId, path: 'params.engine' },
        );
      }
      const grammar = p.keywords !== undefined ? keywordsGrammar(p.keywords) : p.grammar;
      return new SpeechToTextInstance(factory, grammar, p, context);
    },
  });
}

class SpeechToTextInstance {
  private recognizer: Recognizer | undefined;
  private readonly endpointing: 'input' | 'silence';
  private readonly partials: boolean;
  private readonly transcriptEvents: boolean;
  private readonly mode: 'grammar' | 'dictation';
  private readonly keywords: readonly string[] | undefined;
  private readonly engineOptions: Readonly<Record<string, unknown>>;
  /** Stream time of the next sample, seconds. */
  private clockS = 0;
  /** Stream time where the open utterance began (endpointing "silence"). */
  private utteranceS = 0;
  private open = false;
  private heard = false;
  private lastPartial: string | undefined;

  constructor(
    private readonly factory: RecognizerFactory,
    private readonly grammar: string | undefined,
    params: Params,
    private readonly context: NodeContext,
  ) {
    this.endpointing = params.endpointing ?? 'input';
    this.partials = params.partials ?? false;
    this.transcriptEvents = params.transcript_events ?? true;
    this.mode = grammar === undefined ? 'dictation' : 'grammar';
    this.engineOptions = params.engine_options ?? {};
    this.keywords = params.keywords;
  }

  async initialize(): Promise<void> {
    this.recognizer = await this.factory({
      grammar: this.grammar,
      keywords: this.keywords,
      engineOptions: this.engineOptions,
      nodeId: this.context.nodeId,
      signal: this.context.signal,
    });
    if (this.endpointing === 'silence' && this.recognizer.inSpeech === undefined) {
      throw new RemoteMediaError(
        'usage',
        `${this.context.nodeId}: params.endpointing "silence" needs an engine with a voice activity detector, and this one has none: use "input" (after a SileroVAD)`,
        { nodeId: this.context.nodeId, path: 'params.endpointing' },
      );
    }
  }

  process(input: RuntimeData): Iterable<RuntimeData> {
    const recognizer = this.recognizer;
    if (recognizer === undefined) {
      // Its recognizer is closed (cleanup) or not made yet: a typed error, as the engine's own.
      throw new RemoteMediaError(
        'usage',
        `${this.context.nodeId}: SpeechToText was cleaned up (or not initialized); make a new node instance`,
        { nodeId: this.context.nodeId },
      );
    }
    if (input.kind !== 'audio') return [];
    this.checkAudio(input, recognizer.sampleRate);
    if (input.timestampUs !== undefined) this.clockS = input.timestampUs / 1e6;
    return this.endpointing === 'input'
      ? this.utterance(recognizer, input)
      : this.stream(recognizer, input);
  }

  flush(): RuntimeData[] {
    if (this.endpointing !== 'silence' || !this.open || this.recognizer === undefined) return [];
    this.open = false;
    const heard = this.heard;
    this.heard = false;
    const transcript = this.recognizer.finish();
    return heard || transcript.text
      ? [...this.final(transcript, this.utteranceS, this.clockS)]
      : [];
  }

  cleanup(): void {
    this.recognizer?.close();
    this.recognizer = undefined;
  }

  /** One utterance per input (SileroVAD's segments, a file). */
  private *utterance(recognizer: Recognizer, audio: AudioData): Generator<RuntimeData> {
    const startS = this.clockS;
    recognizer.start();
    this.lastPartial = undefined;
    for (const [piece] of this.pieces(audio, recognizer.sampleRate)) {
      recognizer.accept(piece);
      yield* this.partial(recognizer);
    }
    yield* this.final(recognizer.finish(), startS, this.clockS);
  }

  /** A continuous stream, cut where the engine's voice activity detector hears silence. */
  private *stream(recognizer: Recognizer, audio: AudioData): Generator<RuntimeData> {
    for (const [piece, pieceStart] of this.pieces(audio, recognizer.sampleRate)) {
      if (!this.open) {
        recognizer.start();
        this.open = true;
        this.heard = false;
        this.lastPartial = undefined;
        this.utteranceS = pieceStart;
      }
      recognizer.accept(piece);
      const speaking = recognizer.inSpeech!();
      this.heard ||= speaking;
      yield* this.partial(recognizer);
      if (this.heard && !speaking) {
        this.open = this.heard = false;
        yield* this.final(recognizer.finish(), this.utteranceS, this.clockS);
      } else if (!this.heard && this.clockS - this.utteranceS > IDLE_RESTART_S) {
        recognizer.finish(); // only silence so far: start afresh
        this.open = false;
      }
    }
  }

  /** 100 ms pieces as 16-bit PCM (clipped to [-1, 1], as the gateway's float_to_pcm16). */
  private *pieces(audio: AudioData, rate: number): Generator<[Int16Array, number]> {
    const step = Math.round(rate * PIECE_S);
    const samples = audio.samples;
    for (let at = 0; at < samples.length; at += step) {
      const piece = samples.subarray(at, Math.min(samples.length, at + step));
      const pcm = new Int16Array(piece.length);
      for (let i = 0; i < piece.length; i++) {
        pcm[i] = Math.round(Math.max(-1, Math.min(1, piece[i]!)) * 32767);
      }
      const start = this.clockS;
      this.clockS += piece.length / rate;
      yield [pcm, start];
    }
  }

  private *partial(recognizer: Recognizer): Generator<RuntimeData> {
    if (!this.partials) return;
    const text = recognizer.partial?.();
    if (text && text !== this.lastPartial) {
      this.lastPartial = text;
      yield RuntimeData.event('partial_transcript', Math.round(this.clockS * 1e6), { text });
    }
  }

  private *final(transcript: Transcript, startS: number, endS: number): Generator<RuntimeData> {
    const words = transcript.words.map((w) => ({
      word: w.word,
      start_us: Math.round((startS + w.startS) * 1e6),
      end_us: Math.round((startS + w.endS) * 1e6),
    }));
    const begin = words[0]?.start_us ?? Math.round(startS * 1e6);
    const end = words.at(-1)?.end_us ?? Math.round(endS * 1e6);
    // Text only when words were heard (a Resample's flushed tail, a cough: no text);
    // the transcript event still says the utterance was heard as nothing.
    if (transcript.text) yield RuntimeData.text(transcript.text, begin);
    if (this.transcriptEvents) {
      yield RuntimeData.event('transcript', begin, {
        text: transcript.text,
        start_us: begin,
        end_us: end,
        words,
        mode: this.mode,
      });
    }
  }

  private checkAudio(audio: AudioData, rate: number): void {
    if (audio.sampleRate !== rate || audio.channels !== 1) {
      throw new RemoteMediaError(
        'invalid_data',
        `${this.context.nodeId}: SpeechToText needs ${rate} Hz mono audio, received ${audio.sampleRate} Hz with ${audio.channels} channel(s); put a Resample (target_rate ${rate}) and a mono mix before it`,
        { nodeId: this.context.nodeId },
      );
    }
  }
}
