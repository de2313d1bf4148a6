/**
 * PocketSphinx compiled to WASM (scripts/build-pocketsphinx.sh: Debian's sources,
 * wasm-nodes/pocketsphinx/glue.c), loaded from the runtime's assets folder
 * `pocketsphinx/` on first use: the ES module, its wasm, and the en-us model
 * (acoustic model and dictionary; the 27 MB dictation language model only when a
 * node asks for dictation) written into the module's in-memory file system.
 *
 * One module per worker: every decoder (one per SpeechToText node) is a handle in
 * it and reads the same model files. All calls run on the worker's own thread.
 */
import { RemoteMediaError } from '../../core/internal.ts';

/** Files of the acoustic model that ps_init reads (the folder's README is its licence). */
export const ACOUSTIC_MODEL_FILES = [
  'feat.params',
  'mdef',
  'means',
  'noisedict',
  'sendump',
  'transition_matrices',
  'variances',
] as const;

/** Where the model sits in the module's file system. */
export const MODEL_DIR = '/model';
export const ACOUSTIC_MODEL = `${MODEL_DIR}/en-us`;
export const DICTIONARY = `${MODEL_DIR}/cmudict-en-us.dict`;
export const LANGUAGE_MODEL = `${MODEL_DIR}/en-us.lm.bin`;

/** The part of Emscripten's module object the engine uses. */
export interface PocketSphinxModule {
  FS: {
    mkdirTree(path: string): void;
    writeFile(path: string, data: Uint8Array | string): void;
    unlink(path: string): void;
    analyzePath(path: string): { exists: boolean };
  };
  ccall(
    name: string,
    returns: 'number' | 'string' | null,
    args: string[],
    values: unknown[],
  ): unknown;
  HEAP16: Int16Array;
  HEAPU8: Uint8Array;
  _malloc(bytes: number): number;
  _free(pointer: number): void;
}

type CreateModule = (args: Record<string, unknown>) => Promise<PocketSphinxModule>;

export interface PocketSphinxAssets {
  /** Absolute URL of the `pocketsphinx/` folder, ending in `/`. */
  readonly base: string;
}

/** The module with the model loaded; `languageModel()` fetches the dictation LM once. */
export interface LoadedPocketSphinx {
  readonly module: PocketSphinxModule;
  /** Bytes fetched so far (module, wasm and model files), for the docs' and benchmarks' figures. */
  readonly fetchedBytes: () => number;
  languageModel(): Promise<string>;
}

/** Loads once per base; a failed load is forgotten so that a later session may retry. */
const loads = new Map<string, Promise<LoadedPocketSphinx>>();

export function loadPocketSphinx(assets: PocketSphinxAssets): Promise<LoadedPocketSphinx> {
  let load = loads.get(assets.base);
  if (load === undefined) {
    load = load_(assets.base).catch((error: unknown) => {
      loads.delete(assets.base);
      throw error;
    });
    loads.set(assets.base, load);
  }
  return load;
}

async function load_(base: string): Promise<LoadedPocketSphinx> {
  let fetched = 0;
  const bytes = async (name: string): Promise<Uint8Array> => {
    const url = new URL(name, base).href;
    let response: Response;
    try {
      response = await fetch(url);
    } catch (error) {
      throw unavailable(`${url} did not load (${String(error)})`);
    }
    if (!response.ok) throw unavailable(`HTTP ${response.status} for ${url}`);
    const data = new Uint8Array(await response.arrayBuffer());
    fetched += data.length;
    return data;
  };
  const moduleUrl = new URL('pocketsphinx.mjs', base).href;
  let create: CreateModule;
  try {
    create = (
      (await import(/* webpackIgnore: true */ /* @vite-ignore */ moduleUrl)) as {
        default: CreateModule;
      }
    ).default;
  } catch (error) {
    throw unavailable(`${moduleUrl} did not load (${String(error)})`);
  }
  // The wasm and the model are fetched together; the module is compiled from its bytes.
  const [wasm, dictionary, ...acoustic] = await Promise.all([
    bytes('pocketsphinx.wasm'),
    bytes('model/cmudict-en-us.dict'),
    ...ACOUSTIC_MODEL_FILES.map((f) => bytes(`model/en-us/${f}`)),
  ]);
  const module = await create({
    wasmBinary: wasm,
    // Its log goes through glue.c's callback; nothing else should print.
    print: () => {},
    printErr: () => {},
  });
  module.FS.mkdirTree(ACOUSTIC_MODEL);
  ACOUSTIC_MODEL_FILES.forEach((f, i) =>
    module.FS.writeFile(`${ACOUSTIC_MODEL}/${f}`, acoustic[i]!),
  );
  module.FS.writeFile(DICTIONARY, dictionary!);
  let lm: Promise<string> | undefined;
  return {
    module,
    fetchedBytes: () => fetched,
    languageModel: () =>
      (lm ??= bytes('model/en-us.lm.bin').then(
        (data) => {
          module.FS.writeFile(LANGUAGE_MODEL, data);
          return LANGUAGE_MODEL;
        },
        (error: unknown) => {
          lm = undefined;
          throw error;
        },
      )),
  };
}

function unavailable(what: string): RemoteMediaError {
  return new RemoteMediaError(
    'node_failed',
    `SpeechToText (pocketsphinx): ${what}; serve the runtime's assets folder (it holds pocketsphinx/, made by npm run build:wasm) or pass createRuntime({ assetsBase })`,
  );
}
