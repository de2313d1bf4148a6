/**
 * PocketSphinx as SpeechToText's browser engine (BSD-2-Clause, CMU; built from
 * Debian's sources to WASM, the en-us model from Debian's pocketsphinx-en-us):
 * the twin of the gateway's pocketsphinx_engine.py. A JSGF grammar (or the
 * keywords' grammar) for commands, the general language model for dictation, or —
 * with engine_options.kws_threshold and keywords — keyword spotting, which finds
 * the phrases inside longer speech.
 *
 * Each recognizer is one decoder handle in the worker's one module
 * (pocketsphinx-module.ts); its calls are synchronous and run on the worker's thread.
 */
import { RemoteMediaError } from '../../core/internal.ts';
import { GrammarError, parseJsgf } from './jsgf-grammar.ts';
import {
  ACOUSTIC_MODEL,
  DICTIONARY,
  type LoadedPocketSphinx,
  loadPocketSphinx,
  type PocketSphinxAssets,
  type PocketSphinxModule,
} from './pocketsphinx-module.ts';
import type {
  RecognizedWord,
  Recognizer,
  RecognizerFactory,
  RecognizerOptions,
  Transcript,
} from './speech-recognizer.ts';

export const POCKETSPHINX = 'pocketsphinx';

/** engine_options PocketSphinx takes in the browser. */
const OPTIONS = ['kws_threshold'] as const;

/**
 * The engine factory. `assets` says where the `pocketsphinx/` folder is; it is read
 * when the first recognizer is made (a page that never recognises fetches nothing).
 */
export function pocketSphinxEngine(assets: () => PocketSphinxAssets): RecognizerFactory {
  return async (options) => {
    checkOptions(options);
    const loaded = await loadPocketSphinx(assets());
    options.signal.throwIfAborted();
    return PocketSphinxRecognizer.create(loaded, options);
  };
}

function checkOptions({ engineOptions, nodeId, keywords }: RecognizerOptions): void {
  for (const [key, value] of Object.entries(engineOptions)) {
    const path = `params.engine_options.${key}`;
    if (!(OPTIONS as readonly string[]).includes(key)) {
      throw new RemoteMediaError(
        'usage',
        `${nodeId}: ${path}: pocketsphinx in the browser takes ${OPTIONS.join(', ')} (the model is the assets folder's en-us)`,
        { nodeId, path },
      );
    }
    if (key === 'kws_threshold') {
      if (typeof value !== 'number' || !(value > 0 && value < 1)) {
        throw new RemoteMediaError(
          'usage',
          `${nodeId}: ${path} must be a number between 0 and 1 such as 1e-20 (lower finds more), found ${JSON.stringify(value)}`,
          { nodeId, path },
        );
      }
      if (keywords === undefined) {
        throw new RemoteMediaError(
          'usage',
          `${nodeId}: ${path} spots keywords: give "keywords" too`,
          { nodeId, path },
        );
      }
    }
  }
}

class PocketSphinxRecognizer implements Recognizer {
  readonly sampleRate = 16000;
  private inUtterance = false;
  private buffer = 0;
  private bufferLength = 0;

  private constructor(
    private readonly module: PocketSphinxModule,
    private handle: number,
    private readonly frameRate: number,
    private readonly nodeId: string,
  ) {}

  /**
   * The live decoder's handle. After close() it is 0, and a call with it would run
   * on in C with a null decoder (undefined behaviour in the shared module's heap).
   */
  private live(): number {
    if (this.handle === 0) {
      throw new RemoteMediaError(
        'usage',
        `${this.nodeId}: the pocketsphinx recognizer was closed; make a new one`,
        { nodeId: this.nodeId },
      );
    }
    return this.handle;
  }

  static async create(loaded: LoadedPocketSphinx, options: RecognizerOptions): Promise<Recognizer> {
    const { module } = loaded;
    const { nodeId, grammar, keywords, engineOptions } = options;
    const call = (name: string, returns: 'number' | 'string', types: string[], args: unknown[]) =>
      module.ccall(name, returns, types, args);
    const lastError = () => String(call('psw_last_error', 'string', [], [])).trim();
    const handle = call(
      'psw_new',
      'number',
      ['string', 'string'],
      [ACOUSTIC_MODEL, DICTIONARY],
    ) as number;
    if (handle === 0) {
      throw new RemoteMediaError(
        'node_failed',
        `${nodeId}: pocketsphinx did not start: ${lastError() || 'no message'}`,
        { nodeId },
      );
    }
    const recognizer = new PocketSphinxRecognizer(
      module,
      handle,
      call('psw_frame_rate', 'number', ['number'], [handle]) as number,
      nodeId,
    );
    try {
      const threshold = engineOptions.kws_threshold as number | undefined;
      let rc: number;
      if (threshold !== undefined && keywords !== undefined) {
        recognizer.checkWords(
          keywords.map((k) => ({ phrase: k, line: 1 })),
          nodeId,
          'keywords',
        );
        const keyfile = `/tmp/kws-${handle}.txt`;
        module.FS.writeFile(
          keyfile,
          // "phrase/threshold/": a space before the threshold would end up in the phrase.
          keywords.map((k) => `${k.toLowerCase().split(/\s+/).join(' ')}/${threshold}/\n`).join(''),
        );
        rc = call(
          'psw_set_kws',
          'number',
          ['number', 'string', 'string'],
          [handle, 'kws', keyfile],
        ) as number;
        module.FS.unlink(keyfile); // read by ps_set_kws, not needed after
      } else if (grammar !== undefined) {
        const checked = parseJsgf(grammar); // the node checked it; here for its words' lines
        recognizer.checkWords(
          checked.words.map((w) => ({ phrase: w.word, line: w.line })),
          nodeId,
          keywords === undefined ? 'grammar' : 'keywords',
        );
        rc = withHeapString(module, grammar, nodeId, (text) =>
          call('psw_set_jsgf', 'number', ['number', 'string', 'number'], [handle, 'grammar', text]),
        ) as number;
      } else {
        const path = await loaded.languageModel();
        rc = call(
          'psw_set_lm',
          'number',
          ['number', 'string', 'string'],
          [handle, 'lm', path],
        ) as number;
      }
      if (rc < 0) {
        throw new RemoteMediaError(
          'node_failed',
          `${nodeId}: pocketsphinx refused the ${grammar === undefined ? 'language model' : 'grammar'}: ${lastError() || 'no message'}`,
          { nodeId },
        );
      }
    } catch (error) {
      recognizer.close();
      throw error;
    }
    return recognizer;
  }

  /** Every word must be in the dictionary: the gateway's message, with its line. */
  private checkWords(
    phrases: readonly { phrase: string; line: number }[],
    nodeId: string,
    param: 'grammar' | 'keywords',
  ): void {
    for (const { phrase, line } of phrases) {
      for (const word of phrase.toLowerCase().split(/\s+/).filter(Boolean)) {
        const known = this.module.ccall(
          'psw_has_word',
          'number',
          ['number', 'string'],
          [this.handle, word],
        );
        if (known === 0) {
          const error = new GrammarError(
            line,
            `the word '${word}' is not in the pronunciation dictionary (cmudict-en-us.dict)`,
          );
          throw new RemoteMediaError('usage', `${nodeId}: params.${param}: ${error.message}`, {
            nodeId,
            path: `params.${param}`,
          });
        }
      }
    }
  }

  start(): void {
    if (this.inUtterance) this.call('psw_end');
    this.call('psw_start');
    this.inUtterance = true;
  }

  accept(pcm16: Int16Array): void {
    const handle = this.live();
    if (pcm16.length === 0) return;
    if (pcm16.length > this.bufferLength) {
      if (this.buffer !== 0) this.module._free(this.buffer);
      this.buffer = this.module._malloc(pcm16.length * 2);
      this.bufferLength = pcm16.length;
    }
    // HEAP16 is re-read each time: the memory may have grown since.
    this.module.HEAP16.set(pcm16, this.buffer >> 1);
    this.module.ccall(
      'psw_process',
      'number',
      ['number', 'number', 'number'],
      [handle, this.buffer, pcm16.length],
    );
  }

  partial(): string | undefined {
    return this.hyp() || undefined;
  }

  inSpeech(): boolean {
    return this.call('psw_in_speech') === 1;
  }

  finish(): Transcript {
    this.live();
    if (!this.inUtterance) return { text: '', words: [] };
    this.call('psw_end');
    this.inUtterance = false;
    const text = this.hyp();
    if (!text) return { text: '', words: [] };
    const segments = String(this.module.ccall('psw_segments', 'string', ['number'], [this.handle]));
    const words: RecognizedWord[] = [];
    for (const line of segments.split('\n')) {
      // "word start end"; a spotted keyword is a phrase, so the frames are read from the end.
      const parts = line.split(' ');
      const ef = parts.pop();
      const sf = parts.pop();
      const raw = parts.join(' ').trim();
      if (!raw || raw.startsWith('<') || raw.startsWith('[') || raw.startsWith('++')) continue;
      // "on(2)": an alternative pronunciation of "on".
      const word = raw.endsWith(')') && raw.includes('(') ? raw.slice(0, raw.indexOf('(')) : raw;
      words.push({
        word,
        startS: Number(sf) / this.frameRate,
        endS: (Number(ef) + 1) / this.frameRate,
      });
    }
    return { text, words };
  }

  close(): void {
    if (this.handle === 0) return;
    if (this.inUtterance) this.call('psw_end');
    this.inUtterance = false;
    this.call('psw_free');
    if (this.buffer !== 0) this.module._free(this.buffer);
    this.buffer = this.bufferLength = 0;
    this.handle = 0;
  }

  private hyp(): string {
    return String(this.module.ccall('psw_hyp', 'string', ['number'], [this.live()]));
  }

  private call(name: string): number {
    return this.module.ccall(name, 'number', ['number'], [this.live()]) as number;
  }
}

/**
 * Calls `use` with `text` as a NUL-terminated string in the module's heap. ccall would
 * put a string argument on the module's 5 MB stack, which a megabytes-long grammar
 * overruns into the heap; malloc'd, a grammar too big for memory is a typed error.
 */
function withHeapString<T>(
  module: PocketSphinxModule,
  text: string,
  nodeId: string,
  use: (pointer: number) => T,
): T {
  const bytes = new TextEncoder().encode(text);
  const pointer = module._malloc(bytes.length + 1);
  if (pointer === 0) {
    throw new RemoteMediaError(
      'limit',
      `${nodeId}: params.grammar (${bytes.length} bytes) does not fit in the recognizer's memory`,
      { nodeId, path: 'params.grammar' },
    );
  }
  try {
    // HEAPU8 is read after malloc: the memory may have grown.
    module.HEAPU8.set(bytes, pointer);
    module.HEAPU8[pointer + bytes.length] = 0;
    return use(pointer);
  } finally {
    module._free(pointer);
  }
}
