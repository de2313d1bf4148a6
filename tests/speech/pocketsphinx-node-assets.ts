/**
 * The PocketSphinx assets folder the build made, for tests that load the browser's
 * engine under Node: its base as a file: URL, and (for the calling test file, from
 * beforeAll to afterAll) a fetch that reads file: URLs, which Node's own does not.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll } from 'vitest';

const FOLDER = join(import.meta.dirname, '../../wasm-nodes/build/pocketsphinx');

/** Call at a test file's top level; returns the assets base the engine is given. */
export function pocketSphinxAssetsUnderNode(): string {
  const realFetch = globalThis.fetch;
  beforeAll(() => {
    globalThis.fetch = (async (input: string | URL | Request) => {
      const url = String(input instanceof Request ? input.url : input);
      if (!url.startsWith('file:')) return realFetch(input);
      return new Response(readFileSync(fileURLToPath(url)));
    }) as typeof fetch;
  });
  afterAll(() => {
    globalThis.fetch = realFetch;
  });
  return `${pathToFileURL(FOLDER).href}/`;
}
