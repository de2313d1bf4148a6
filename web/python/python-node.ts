/**
 * PythonNode: a node whose work is done by a Python class, in the Python worker's
 * Pyodide. Params name the class ("module:Class", or a class of the remotemedia
 * package) or carry its inline source, plus the params its constructor takes.
 * Inputs and outputs cross into Python as frame-codec bytes.
 *
 * While a call runs, the node stamps the shared control block with its start time,
 * so the page can interrupt a runaway call (Pyodide's interrupt buffer) even though
 * this thread is busy and cannot answer messages.
 */
import type { PyProxy } from 'pyodide/ffi';
import type { z } from 'zod';
import { decodeFrame, defineNode, encodeFrame, type RuntimeData } from '../core/internal.ts';
import { pythonNodeParams } from './python-node-params.ts';
import type { PythonRuntime } from './python-runtime.ts';
import type { PythonControl } from './python-control.ts';

/** remotemedia.node_host.HostedNode; process/flush answer at once for synchronous nodes. */
interface HostedNode extends PyProxy {
  initialize(): Promise<void>;
  process(frame: Uint8Array): PyProxy;
  flush(): PyProxy;
  interrupt(): void;
  cleanup(): Promise<void>;
}

/**
 * The PythonNode call running now in this worker, if any, and whether barge-in
 * interrupted it: its interrupt() hook, run from inside the call (the barge-in
 * signal handler, python-host.ts), says so, and the handler then raises
 * remotemedia.node_host.Interrupted in it.
 */
export interface PythonCallInFlight {
  node: object | undefined;
  interrupted: boolean;
}

/** Whether a call failed because barge-in raised Interrupted in it. */
function isBargeIn(error: unknown): boolean {
  return (error as { type?: unknown } | undefined)?.type === 'Interrupted';
}

/** A Python coroutine's proxy is awaitable; a list's is not. */
function isAwaitable(proxy: PyProxy): proxy is PyProxy & PromiseLike<PyProxy> {
  return typeof (proxy as Partial<PromiseLike<unknown>>).then === 'function';
}

/**
 * The running PythonNode instances by node id, each with how to swap its Python
 * object for one made from new params while its stream goes on.
 */
export type LivePythonNodes = Map<string, Set<(params: PythonNodeParams) => Promise<void>>>;
type PythonNodeParams = z.output<typeof pythonNodeParams>;

/** The definition; `runtime` is only called when an instance initializes. */
export function definePythonNode(
  runtime: () => Promise<PythonRuntime>,
  control: () => PythonControl | undefined = () => undefined,
  live: LivePythonNodes = new Map(),
  inFlight: PythonCallInFlight = { node: undefined, interrupted: false },
) {
  return defineNode({
    type: 'PythonNode',
    description: 'Runs a Python Node class (from a module or inline source) in Pyodide.',
    params: pythonNodeParams,
    create(params, { nodeId }) {
      let hosted: HostedNode | undefined;
      /** This instance, as inFlight names it. */
      const self = {};
      const call = async (work: () => PyProxy): Promise<RuntimeData[]> => {
        control()?.enter();
        const outer = inFlight.node;
        inFlight.node = self;
        inFlight.interrupted = false;
        let result: PyProxy | undefined;
        try {
          result = work();
          if (isAwaitable(result)) {
            const pending = result;
            result = await pending;
            pending.destroy();
          }
          const frames = result.toJs() as Uint8Array[];
          return frames.map((bytes) => decodeFrame(bytes).data);
        } catch (error) {
          // Barge-in stopped it mid-way: what it made is the cancelled turn's.
          if (isBargeIn(error)) return [];
          throw error;
        } finally {
          inFlight.node = outer;
          control()?.leave();
          result?.destroy();
        }
      };
      const make = async (spec: PythonNodeParams): Promise<HostedNode> => {
        const { pyodide } = await runtime();
        const host = pyodide.pyimport('remotemedia.node_host');
        let made: HostedNode;
        try {
          made = host.create_node(JSON.stringify({ ...spec, name: nodeId })) as HostedNode;
        } finally {
          host.destroy();
        }
        control()?.enter();
        try {
          await made.initialize();
        } catch (error) {
          made.destroy();
          throw error;
        } finally {
          control()?.leave();
        }
        return made;
      };
      // Calls are one at a time per node and this thread runs one thing at a time:
      // the next input simply meets the new object. A source that fails to load
      // leaves the old one running.
      const swap = async (spec: PythonNodeParams) => {
        const next = await make(spec);
        const old = hosted;
        hosted = next;
        if (old) await old.cleanup().finally(() => old.destroy());
      };
      return {
        async initialize() {
          hosted = await make(params);
          if (!live.has(nodeId)) live.set(nodeId, new Set());
          live.get(nodeId)!.add(swap);
        },
        process: (input) => call(() => hosted!.process(encodeFrame({ sequence: 0, data: input }))),
        flush: () => call(() => hosted!.flush()),
        /**
         * Barge-in: the Python object's own interrupt() runs; from inside this node's
         * running call (the barge-in signal), the call is marked to be stopped.
         */
        interrupt() {
          if (inFlight.node === self) inFlight.interrupted = true;
          hosted?.interrupt();
        },
        async cleanup() {
          live.get(nodeId)?.delete(swap);
          if (live.get(nodeId)?.size === 0) live.delete(nodeId);
          if (!hosted) return;
          try {
            await hosted.cleanup();
          } finally {
            hosted.destroy();
            hosted = undefined;
          }
        },
      };
    },
  });
}
