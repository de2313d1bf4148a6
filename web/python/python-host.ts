/**
 * The Python side of the Python worker: PythonNode over one warm Pyodide shared by
 * every session of the worker, hot swap and the control block. It knows no hosts
 * or channels: web/runtime/python-worker-host.ts puts it behind a PipelineHost.
 */
import type { PyodideInterface } from 'pyodide';
import { type AnyNodeDefinition, PipelineRunner, RemoteMediaError } from '../core/internal.ts';
import { PythonControl } from './python-control.ts';
import { definePythonNode, type LivePythonNodes, type PythonCallInFlight } from './python-node.ts';
import { pythonNodeParams } from './python-node-params.ts';
import {
  type PyodideSnapshotOptions,
  type PythonLoadStage,
  type PythonRuntime,
  type PythonSnapshotOptions,
  startPythonRuntime,
} from './python-runtime.ts';

interface PythonState {
  started?: Promise<PythonRuntime>;
  control?: PythonControl;
  /** Whoever asked to hear how loading goes. */
  listeners: ((stage: PythonLoadStage, fraction: number) => void)[];
  start(): Promise<PythonRuntime>;
}

export class PythonHost {
  /** The node types this side adds to its host's registry: PythonNode. */
  readonly nodes: readonly AnyNodeDefinition[];
  private readonly python: PythonState;
  /**
   * Barge-in for island number `island` taken inside a running Python call (the
   * page's PythonControl.requestBargeIn): the host interrupts that island now, so
   * that its nodes' hooks run — the running PythonNode's among them, if it is one of
   * its `to` nodes, which then stops. Set by the host of islands (python-worker-host.ts).
   */
  onBargeInSignal: ((island: number, timestampUs: number) => void) | undefined;

  /**
   * `snapshot` says where memory snapshots are kept (asked once, at the start):
   * the worker's are the shipped file and IndexedDB.
   */
  constructor(
    load: (snapshot?: PyodideSnapshotOptions) => Promise<PyodideInterface>,
    files: Record<string, string>,
    snapshot?: () => Promise<PythonSnapshotOptions | undefined>,
  ) {
    const inFlight: PythonCallInFlight = { node: undefined, interrupted: false };
    // Runs in the signal handler, inside the running call: true stops that call.
    const bargeInCheck = (): boolean => {
      const control = python.control;
      if (!control) return false;
      const { island, timestampUs } = control.bargeIn();
      this.onBargeInSignal?.(island, timestampUs);
      return inFlight.node !== undefined && inFlight.interrupted;
    };
    const python: PythonState = {
      listeners: [],
      // Started once, by warm() or by the first PythonNode to initialize.
      start() {
        python.started ??= (async () =>
          startPythonRuntime({
            load,
            files,
            runner: new PipelineRunner(),
            onProgress: (stage, fraction) => {
              for (const listener of python.listeners) listener(stage, fraction);
            },
            snapshot: await snapshot?.(),
          }))().then((runtime) => {
          if (python.control) runtime.pyodide.setInterruptBuffer(python.control.interrupt);
          const host = runtime.pyodide.pyimport('remotemedia.node_host');
          try {
            host.install_barge_in(bargeInCheck);
          } finally {
            host.destroy();
          }
          return runtime;
        });
        return python.started;
      },
    };
    const live: LivePythonNodes = new Map();
    this.nodes = [
      definePythonNode(
        () => python.start(),
        () => python.control,
        live,
        inFlight,
      ),
    ];
    this.python = python;
    this.live = live;
  }

  private readonly live: LivePythonNodes;

  /**
   * Replaces the Python object of the running PythonNode `nodeId` (in every session
   * that has one) with one made from `params`, without stopping its stream.
   */
  async updateNode(nodeId: string, params: unknown): Promise<number> {
    const swaps = this.live.get(nodeId);
    if (!swaps || swaps.size === 0) {
      throw new RemoteMediaError('usage', `no running PythonNode '${nodeId}' to update`, {
        nodeId,
      });
    }
    const checked = pythonNodeParams.safeParse(params);
    if (!checked.success) {
      throw new RemoteMediaError('usage', `PythonNode '${nodeId}': ${checked.error.message}`, {
        nodeId,
      });
    }
    try {
      await Promise.all([...swaps].map((swap) => swap(checked.data)));
    } catch (error) {
      // The old object keeps running; say why the new one could not take over.
      throw new RemoteMediaError(
        'usage',
        `PythonNode '${nodeId}' keeps its old code: the new one does not load: ${String((error as Error)?.message ?? error).trim()}`,
        { nodeId },
      );
    }
    return swaps.size;
  }

  /**
   * Loads Pyodide and the package now; resolves with the start-up time in ms.
   * `onProgress` (a comlink proxy) hears each stage of a load still under way.
   */
  async warm(onProgress?: (stage: PythonLoadStage, fraction: number) => void): Promise<number> {
    if (onProgress && !this.python.started) this.python.listeners.push(onProgress);
    try {
      return (await this.python.start()).startupMs;
    } finally {
      if (onProgress) this.python.listeners = this.python.listeners.filter((l) => l !== onProgress);
    }
  }

  /**
   * How the interpreter started (starting it if need be): its start-up time and
   * the snapshot store it came from (none after a plain start). With `kept`, waits
   * until a snapshot made by that plain start is kept.
   */
  async startInfo(kept = false): Promise<{ startupMs: number; snapshotFrom?: string }> {
    const runtime = await this.python.start();
    if (kept) await runtime.snapshotKept;
    return { startupMs: runtime.startupMs, snapshotFrom: runtime.snapshotFrom };
  }

  /** The control block shared with the page (interrupts, call stamps). */
  setControl(buffer: SharedArrayBuffer): void {
    const control = new PythonControl(buffer);
    this.python.control = control;
    void this.python.started?.then((r) => r.pyodide.setInterruptBuffer(control.interrupt));
  }
}
