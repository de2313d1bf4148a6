/**
 * Which speech engines run in the browser's pipeline worker, by node type. The
 * planner reads this to place a speech node: in the worker when its `engine` param
 * names a browser engine (or names none and the type has one), else on a gateway.
 * Names only — the engines themselves load in the worker (flite-tts.ts,
 * pocketsphinx-stt.ts). A node module may add engines (`speechToTextEngines`); the
 * worker reports their names after configure, and the planner passes them here.
 */

/** Engines the embedder's node modules added in the worker, by node type. */
export type AddedEngines = Readonly<Record<string, readonly string[]>>;

/** Browser engines of each speech node type; the first is the default. */
const BROWSER_ENGINES: Readonly<Record<string, readonly string[]>> = {
  TextToSpeech: ['flite'],
  SpeechToText: ['pocketsphinx'],
};

export function browserEnginesFor(type: string, added: AddedEngines = {}): readonly string[] {
  return [...(BROWSER_ENGINES[type] ?? []), ...(added[type] ?? [])];
}

/** The browser engine a node of `type` with `params` would use, if any. */
export function browserEngineOf(
  type: string,
  params: unknown,
  added: AddedEngines = {},
): string | undefined {
  const engines = browserEnginesFor(type, added);
  const engine = (params as { engine?: unknown } | undefined)?.engine;
  if (engine === undefined) return engines[0];
  return typeof engine === 'string' && engines.includes(engine) ? engine : undefined;
}
