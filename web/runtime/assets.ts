/**
 * Where the browser runtime's heavy assets live: one folder (the "assets base")
 * holding `pyodide/` (Pyodide's own files), `ort/` (onnxruntime-web's wasm build:
 * its module and its one .wasm) and `silero/` (the Silero VAD models). Pyodide
 * needs its files side by side under one URL (its indexURL), which no bundler
 * keeps, so these are served as a folder rather than emitted by a bundler; the
 * package ships that folder ready to serve as `dist/browser/` (the prebuilt build).
 * The workers and worklets are small JS files that bundlers do emit (see
 * worker-link.ts and audio/worklets.ts).
 *
 * The base is resolved once on the page and handed to every worker, so a worker
 * never guesses from its own (bundler-chosen) location.
 */
import { RemoteMediaError } from '../core/internal.ts';

/** What the page tells each worker before it runs anything. */
export interface WorkerConfig {
  /** Absolute URL of the assets folder, ending in `/`. */
  assetsBase: string;
  /** Absolute URLs of ES modules whose node definitions the pipeline worker registers. */
  nodeModules: string[];
}

/**
 * Set by the prebuilt build's entry (web/prebuilt.ts): the folder it was loaded
 * from, which holds the assets and the workers beside it.
 */
let prebuiltBase: string | undefined;

/** Called once by the prebuilt build: its own folder is the default assets base. */
export function usePrebuiltLayout(base: string): void {
  prebuiltBase = base;
}

/**
 * With the prebuilt build, a runtime given an assetsBase moves the whole folder:
 * the worklets (loaded without a runtime, by the audio sources and sinks) follow.
 */
export function adoptAssetsBase(base: string): void {
  if (prebuiltBase !== undefined) prebuiltBase = base;
}

/**
 * The prebuilt build's workers and worklets sit in the assets folder itself;
 * undefined when a bundler emitted them (the runtime was bundled from dist/web).
 */
export function prebuiltFile(assetsBase: string, name: string): URL | undefined {
  return prebuiltBase === undefined ? undefined : new URL(name, assetsBase);
}

/**
 * The assets base as an absolute URL ending in `/`. Default: the prebuilt build's
 * own folder when the runtime is the prebuilt build, else `remotemedia-web/` beside
 * the page (where the Vite plugin serves and ships them, and where the docs have
 * other setups copy `dist/browser/`).
 */
export function resolveAssetsBase(option: string | URL | undefined): string {
  const relativeTo = typeof document === 'undefined' ? self.location.href : document.baseURI;
  const wanted = option ?? prebuiltBase ?? 'remotemedia-web/';
  let url: URL;
  try {
    url = new URL(wanted, relativeTo);
  } catch {
    throw new RemoteMediaError(
      'usage',
      `createRuntime({ assetsBase }): '${String(wanted)}' is not a URL; give the folder that holds pyodide/, ort/ and silero/ (e.g. '/remotemedia-web/')`,
    );
  }
  return url.href.endsWith('/') ? url.href : `${url.href}/`;
}

/** Node modules as absolute URLs (relative ones are taken relative to the page). */
export function resolveNodeModules(modules: readonly (string | URL)[] | undefined): string[] {
  const relativeTo = typeof document === 'undefined' ? self.location.href : document.baseURI;
  return (modules ?? []).map((module, index) => {
    try {
      return new URL(module, relativeTo).href;
    } catch {
      throw new RemoteMediaError(
        'usage',
        `createRuntime({ nodeModules }): nodeModules[${index}] '${String(module)}' is not a URL; give the URL of an ES module whose default export is an array of node definitions`,
      );
    }
  });
}
