/**
 * A node module: an ES module whose default export (or `nodes` export) is an array
 * of node definitions (see defineNode). The same file is loaded by the browser's
 * pipeline worker (`createRuntime({ nodeModules })`), the CLI (`--nodes`) and the
 * gateway (`--nodes`), so a custom node runs wherever the built-ins do.
 */
import { RemoteMediaError } from './errors.ts';
import type { AnyNodeDefinition } from './node-contract.ts';

/**
 * Checks what a node module exported and returns its definitions; `where` names
 * the module in errors (its URL or path).
 */
export function nodesOfModule(exports: unknown, where: string): AnyNodeDefinition[] {
  const module = (exports ?? {}) as { default?: unknown; nodes?: unknown };
  const list = Array.isArray(module.default) ? module.default : module.nodes;
  if (!Array.isArray(list)) {
    throw new RemoteMediaError(
      'usage',
      `node module ${where}: exports no array of node definitions; valid is \`export default [defineNode({...}), ...]\` or \`export const nodes = [...]\``,
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

/**
 * Imports a node module by URL (a `file:` URL on Node, an http(s) URL in a worker)
 * and returns its definitions. The import is left to the platform at run time:
 * bundlers must not try to resolve it.
 */
export async function importNodeModule(url: string): Promise<AnyNodeDefinition[]> {
  let exports: unknown;
  try {
    exports = await import(/* webpackIgnore: true */ /* @vite-ignore */ url);
  } catch (error) {
    throw new RemoteMediaError(
      'usage',
      `node module ${url} did not load: ${error instanceof Error ? error.message : String(error)} (it must be one ES module file the platform can import; bundle it if it imports packages)`,
    );
  }
  return nodesOfModule(exports, url);
}
