/**
 * What the Python worker exposes over comlink: a PipelineHost (islands over
 * channels, validation, the lifeline) whose registry holds PythonNode, with the
 * methods of the Python side (web/python/python-host.ts: warm, updateNode,
 * setControl, ...) beside them. The two meet here, not in web/python, because a
 * host runs islands over channels: web/python stays on the core alone and
 * web/runtime builds on it (tests/node/import-direction.test.ts).
 */
import { RemoteMediaError } from '../core/internal.ts';
import type { PythonHost } from '../python/python-host.ts';
import { PipelineHost } from './pipeline-host.ts';

/**
 * Any thread that hosts Python, once, at start: a PipelineHost for `python`'s node
 * types that also answers every method of `python` (of its class and the classes
 * it extends), bound to it. Forwarding every method, not a list, so a method added
 * on the Python side reaches the page without a change here.
 */
/** The host's id of island number `n` (IslandTable's `island-<n>`; islandNumber is its inverse). */
export function islandId(n: number): string {
  return `island-${n}`;
}

/** The number PythonControl carries for an island id of this host; -1 if it has none. */
export function islandNumber(id: string): number {
  const match = /^island-(\d+)$/.exec(id);
  return match ? Number(match[1]) : -1;
}

export function pythonWorkerHost<P extends PythonHost>(python: P): PipelineHost & P {
  const host = new PipelineHost({ nodes: python.nodes });
  // Barge-in taken inside a running Python call: the island the page named, now.
  python.onBargeInSignal = (island, timestampUs) =>
    host.interruptIsland(islandId(island), timestampUs);
  for (
    let proto: object | null = Object.getPrototypeOf(python) as object;
    proto !== null && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto) as object | null
  ) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      const method = (python as unknown as Record<string, unknown>)[name];
      if (name === 'constructor' || typeof method !== 'function' || Object.hasOwn(host, name)) {
        continue; // not a method, or a subclass's override already forwarded
      }
      if (name in host) {
        throw new RemoteMediaError(
          'usage',
          `the Python host's method '${name}' would hide PipelineHost's: rename it`,
        );
      }
      Object.defineProperty(host, name, { value: method.bind(python) });
    }
  }
  return host as PipelineHost & P;
}
