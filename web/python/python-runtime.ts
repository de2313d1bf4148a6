/**
 * One Pyodide interpreter with the `remotemedia` package installed and the runtime
 * bridge registered: what the Python worker (and the Node tests) start. Everything
 * loads from our own files: Pyodide from its npm package's directory, the package
 * from the sources bundled into the worker.
 */
import type { PyodideInterface } from 'pyodide';
import type { PipelineRunner } from '../core/internal.ts';
import { createRuntimeBridge } from './runtime-bridge.ts';

/** Where the package's files go inside Pyodide's file system (on sys.path). */
export const PACKAGE_ROOT = '/home/pyodide/python-packages';

export interface PythonRuntimeOptions {
  /** Loads Pyodide; the caller picks the build (worker or Node) and its indexURL. */
  load: () => Promise<PyodideInterface>;
  /** python-packages files by path relative to python-packages/ (e.g. remotemedia/data.py). */
  files: Record<string, string>;
  /** The core the Python side's remotemedia_runtime runs manifests on. */
  runner: PipelineRunner;
  /** Called as loading moves on: what is happening, and about how far along (0..1). */
  onProgress?: (stage: PythonLoadStage, fraction: number) => void;
}

export type PythonLoadStage = 'loading Pyodide' | 'installing the remotemedia package' | 'ready';

export interface PythonRuntime {
  pyodide: PyodideInterface;
  /** Milliseconds from start to ready. */
  startupMs: number;
}

export async function startPythonRuntime(options: PythonRuntimeOptions): Promise<PythonRuntime> {
  const started = performance.now();
  const progress = options.onProgress ?? (() => {});
  progress('loading Pyodide', 0);
  const pyodide = await options.load();
  progress('installing the remotemedia package', 0.9);
  for (const [path, text] of Object.entries(options.files)) {
    const full = `${PACKAGE_ROOT}/${path}`;
    pyodide.FS.mkdirTree(full.slice(0, full.lastIndexOf('/')));
    pyodide.FS.writeFile(full, text);
  }
  pyodide.registerJsModule('_remotemedia_js', createRuntimeBridge(options.runner));
  await pyodide.runPythonAsync(
    `import sys\nsys.path.insert(0, ${JSON.stringify(PACKAGE_ROOT)})\nimport remotemedia, remotemedia.node_host, remotemedia_runtime`,
  );
  progress('ready', 1);
  return { pyodide, startupMs: performance.now() - started };
}
