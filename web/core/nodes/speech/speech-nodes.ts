/**
 * The speech node types a gateway runs in CPython: their manifest params, checked
 * here (with manifest paths) before any process starts, and the operator-shipped
 * Python class each maps to (python-packages/remotemedia/nodes/speech). Declarations
 * only: the core runs no engine, so no core registry holds these; a host with
 * CPython (the gateway) pairs each with its executor.
 */
import { z } from 'zod';
import type { RuntimeDataKind } from '../../runtime-data.ts';

/** A speech node type backed by a built-in Python class. */
export interface PythonClassNodeType {
  readonly type: string;
  readonly description: string;
  /** "module:Class", imported by the node runner (node_host.py). */
  readonly pythonClass: string;
  readonly params: z.ZodType<Record<string, unknown>>;
  /** What the class processes; other kinds (events) pass by unchanged. */
  readonly accepts: readonly RuntimeDataKind[];
}

/** Engine names: registered in Python (engines.py), so any identifier-like name. */
const engine = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'an engine name such as "pocketsphinx"');
const engineOptions = z.record(z.string(), z.unknown());

export const SpeechToText: PythonClassNodeType = {
  type: 'SpeechToText',
  description:
    'Speech recognition (PocketSphinx by default): 16 kHz mono audio in, timed text and transcript events out.',
  pythonClass: 'remotemedia.nodes.speech:SpeechToText',
  accepts: ['audio'],
  params: z
    .strictObject({
      engine: engine.optional(),
      /** JSGF; a grammar that does not parse fails the node naming its line. */
      grammar: z.string().min(1).optional(),
      keywords: z.array(z.string().min(1)).min(1).optional(),
      /** "input": each audio item is an utterance; "silence": a stream the engine cuts. */
      endpointing: z.enum(['input', 'silence']).optional(),
      partials: z.boolean().optional(),
      transcript_events: z.boolean().optional(),
      engine_options: engineOptions.optional(),
    })
    .refine((p) => p.grammar === undefined || p.keywords === undefined, {
      message: 'give "grammar" or "keywords", not both',
      path: ['keywords'],
    }),
};

export const TextToSpeech: PythonClassNodeType = {
  type: 'TextToSpeech',
  description:
    'Speech synthesis (espeak-ng by default): text in, 16 or 22.05 kHz mono audio out in chunks as they are made; stops on interrupt (bargeIn).',
  pythonClass: 'remotemedia.nodes.speech:TextToSpeech',
  accepts: ['text'],
  params: z.strictObject({
    engine: engine.optional(),
    /** espeak-ng voice, with an optional variant: "en-us", "en", "en-us+f3". */
    voice: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_-]*(\+[A-Za-z0-9_-]+)?$/, 'a voice such as "en-us+f3"')
      .optional(),
    /** Words per minute. */
    rate: z.int().min(80).max(450).optional(),
    pitch: z.int().min(0).max(99).optional(),
    sample_rate: z.union([z.literal(16000), z.literal(22050)]).optional(),
    chunk_ms: z.int().min(10).max(1000).optional(),
    max_piece_chars: z.int().min(20).max(4000).optional(),
    engine_options: engineOptions.optional(),
  }),
};

/** Every speech node type, for hosts that register them. */
export const SPEECH_NODE_TYPES: readonly PythonClassNodeType[] = [SpeechToText, TextToSpeech];
