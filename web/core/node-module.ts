/**
 * A node module: an ES module whose default export (or `nodes` export) is an array
 * of node definitions (see defineNode). The same file is loaded by the browser's
 * pipeline worker (`createRuntime({ nodeModules })`), the CLI (`--nodes`) and the
 * gateway (`--nodes`), so a custom node runs wherever the built-ins do.
 *
 * A module may also (or instead) export `speechToTextEngines`: recognition engines
 * by name, which the browser's built-in SpeechToText uses when a manifest names
 * one in `params.engine` (speech-recognizer.ts has the factory's shape). Only the
 * pipeline worker reads them; elsewhere they are ignored.
 */
import { RemoteMediaError } from './errors.ts';
import type { AnyNodeDefinition } from './node-contract.ts';

/**
 * Checks what a node module exported and returns its definitions; `where` names
 * the module in errors (its URL or path).
 */
export function nodesOfModule(exports: unknown, where: string): AnyNodeDefinition[] {
  const module = (exports ?? {}) as {
    default?: unknown;
    nodes?: unknown;
    speechToTextEngines?: unknown;
  };
  const list = Array.isArray(module.default) ? module.default : module.nodes;
  // A module of engines only is whole: it contributes no node types.
  if (list === undefined && module.speechToTextEngines !== undefined) return [];
  if (!Array.isArray(list)) {
    throw new RemoteMediaError(
      'usage',
      `node module ${where}: exports no array of node definitions; valid is \`export default [defineNode({...}), ...]\` or \`export const nodes = [...]\` (a module of recognition engines only exports \`speechToTextEngines\`)`,
    );
  }
  list.forEach((node: unknown, index) => {
    const definition = node as Partial<AnyNodeDefinition> | undefined;
    const problem =
      typeof definition?.type !== 'string' || definition.type === ''
        ? 'has no `type` string'
        : typeof definition.create !== 'function'
          ? 'has no `create(params, context)` function'
          : typeof (definition.params as { '~standard'?: unknown } | undefined)?.['~standard'] !==
              'object'
            ? 'has no `params` schema (any Standard Schema, e.g. zod)'
            : undefined;
    if (problem) {
      throw new RemoteMediaError(
        'usage',
        `node module ${where}: nodes[${index}]${definition?.type ? ` ('${definition.type}')` : ''} ${problem}`,
      );
    }
  });
  return list as AnyNodeDefinition[];
}

/** Engine names, as the speech nodes' `engine` param accepts them. */
const ENGINE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/**
 * Checks a node module's `speechToTextEngines` export (none: `{}`) and returns its
 * factories by name. The factories' shape (RecognizerFactory) is the browser
 * runtime's; the core checks only that each is a function.
 */
export function speechToTextEnginesOfModule(
  exports: unknown,
  where: string,
): Readonly<Record<string, (...args: never[]) => unknown>> {
  const engines = (exports as { speechToTextEngines?: unknown } | undefined)?.speechToTextEngines;
  if (engines === undefined) return {};
  const valid =
    'valid is `export const speechToTextEngines = { "my-whisper": async (options) => recognizer }`';
  if (typeof engines !== 'object' || engines === null || Array.isArray(engines)) {
    throw new RemoteMediaError(
      'usage',
      `node module ${where}: speechToTextEngines is ${Array.isArray(engines) ? 'an array' : typeof engines}, not an object of engine factories by name; ${valid}`,
    );
  }
  for (const [name, factory] of Object.entries(engines)) {
    if (!ENGINE_NAME.test(name)) {
      throw new RemoteMediaError(
        'usage',
        `node module ${where}: speechToTextEngines["${name}"]: not an engine name (letters, digits, _ . -, starting with a letter or digit, e.g. "my-whisper")`,
      );
    }
    if (typeof factory !== 'function') {
      throw new RemoteMediaError(
        'usage',
        `node module ${where}: speechToTextEngines["${name}"] is ${factory === null ? 'null' : typeof factory}, not a function (options) => Promise<Recognizer>; ${valid}`,
      );
    }
  }
  return engines as Record<string, (...args: never[]) => unknown>;
}

/** What a node module contributes: node types, and speech engines for the worker. */
export interface NodeModuleContents {
  readonly nodes: AnyNodeDefinition[];
  readonly speechToTextEngines: Readonly<Record<string, (...args: never[]) => unknown>>;
}

/**
 * Imports a node module by URL (a `file:` URL on Node, an http(s) URL in a worker)
 * and returns its definitions. The import is left to the platform at run time:
 * bundlers must not try to resolve it.
 */
export async function importNodeModule(url: string): Promise<AnyNodeDefinition[]> {
  return (await loadNodeModule(url)).nodes;
}

/** Imports a node module by URL and returns all it contributes (see importNodeModule). */
export async function loadNodeModule(url: string): Promise<NodeModuleContents> {
  let exports: unknown;
  try {
    exports = await import(/* webpackIgnore: true */ /* @vite-ignore */ url);
  } catch (error) {
    throw new RemoteMediaError(
      'usage',
      `node module ${url} did not load: ${error instanceof Error ? error.message : String(error)} (it must be one ES module file the platform can import; bundle it if it imports packages)`,
    );
  }
  return {
    nodes: nodesOfModule(exports, url),
    speechToTextEngines: speechToTextEnginesOfModule(exports, url),
  };
}
