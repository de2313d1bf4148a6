/**
 * What the Python worker exposes over comlink: a PipelineHost whose registry adds
 * PythonNode, over one warm Pyodide shared by every session of the worker.
 */
import type { PyodideInterface } from 'pyodide';
import { PipelineRunner } from '../core/index.ts';
import { PipelineHost } from '../runtime/pipeline-host.ts';
import { PythonControl } from './python-control.ts';
import { definePythonNode } from './python-node.ts';
import { type PythonLoadStage, type PythonRuntime, startPythonRuntime } from './python-runtime.ts';

interface PythonState {
  started?: Promise<PythonRuntime>;
  control?: PythonControl;
  /** Whoever asked to hear how loading goes. */
  listeners: ((stage: PythonLoadStage, fraction: number) => void)[];
  start(): Promise<PythonRuntime>;
}

export class PythonHost extends PipelineHost {
  private readonly python: PythonState;

  constructor(load: () => Promise<PyodideInterface>, files: Record<string, string>) {
    const python: PythonState = {
      listeners: [],
      // Started once, by warm() or by the first PythonNode to initialize.
      start() {
        python.started ??= startPythonRuntime({
          load,
          files,
          runner: new PipelineRunner(),
          onProgress: (stage, fraction) => {
            for (const listener of python.listeners) listener(stage, fraction);
          },
        }).then((runtime) => {
          if (python.control) runtime.pyodide.setInterruptBuffer(python.control.interrupt);
          return runtime;
        });
        return python.started;
      },
    };
    super({
      nodes: [
        definePythonNode(
          () => python.start(),
          () => python.control,
        ),
      ],
    });
    this.python = python;
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

  /** The control block shared with the page (interrupts, call stamps). */
  setControl(buffer: SharedArrayBuffer): void {
    const control = new PythonControl(buffer);
    this.python.control = control;
    void this.python.started?.then((r) => r.pyodide.setInterruptBuffer(control.interrupt));
  }
}
