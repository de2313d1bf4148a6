/**
 * The plug-in seam between the browser's SpeechToText node and the engine behind
 * it — the twin of the gateway's (python-packages/remotemedia/nodes/speech/engines.py).
 * An engine is a factory that makes a `Recognizer` for one grammar, or for
 * dictation; the node does the rest (cutting audio into pieces, endpointing,
 * partials, times on the stream's clock, the transcript events). PocketSphinx
 * ships (pocketsphinx-stt.ts); a user who brings Whisper or Vosk weights writes
 * one factory and exports it from a node module as `speechToTextEngines` (the
 * pipeline worker adds it; see docs/nodes.md, "Bring your own engine").
 */

/** One recognised word; times in seconds from the start of the utterance's audio. */
export interface RecognizedWord {
  readonly word: string;
  readonly startS: number;
  readonly endS: number;
}

/** What a recognizer heard in one utterance: empty text when it heard no words. */
export interface Transcript {
  readonly text: string;
  readonly words: readonly RecognizedWord[];
}

/**
 * One decoder, used for one utterance at a time: start, accept..., finish. Audio is
 * 16-bit mono PCM at `sampleRate`. Called from the worker's thread only, one call
 * at a time; `accept` may take milliseconds (it decodes), nothing else blocks.
 */
export interface Recognizer {
  readonly sampleRate: number;
  start(): void;
  accept(pcm16: Int16Array): void;
  /** The best hypothesis so far in this utterance; undefined if none (or not supported). */
  partial?(): string | undefined;
  /**
   * Whether the engine's own voice activity detector is in speech now; needed only
   * for `endpointing: "silence"` (an engine without one leaves it out, and the node
   * says to use "input").
   */
  inSpeech?(): boolean;
  finish(): Transcript;
  /** Frees the engine's resources; the node calls it at clean-up. */
  close(): void;
}

export interface RecognizerOptions {
  /** A JSGF grammar (already checked: it parses), or undefined for dictation. */
  readonly grammar: string | undefined;
  /** The node's `keywords`, when it was given them (`grammar` is then their grammar). */
  readonly keywords: readonly string[] | undefined;
  /** The node's `engine_options`, as given. */
  readonly engineOptions: Readonly<Record<string, unknown>>;
  /** The manifest node's id, for error messages. */
  readonly nodeId: string;
  /** Aborted when the session ends: a long load should stop. */
  readonly signal: AbortSignal;
}

/**
 * Makes a recognizer; may load models (the first call of a worker fetches them).
 * Throws a RemoteMediaError for options it refuses, naming the param path.
 */
export type RecognizerFactory = (options: RecognizerOptions) => Promise<Recognizer>;
