/**
 * Python worker entry: one Pyodide with the remotemedia package, behind a
 * PythonHost on comlink. Pyodide is imported at run time from `pyodide/` in the
 * runtime's assets folder (the page says where, with `configure`), so no bundler
 * has to handle it; the package's Python sources are bundled into this worker.
 */
import { expose } from 'comlink';
import type { PyodideInterface } from 'pyodide';
import { PythonHost } from '../web/python/python-host.ts';
import { pythonSources } from '../web/python/python-sources.ts';
import type { WorkerConfig } from '../web/runtime/assets.ts';
import { installErrorTransfer } from '../web/runtime/error-transfer.ts';
import { pythonWorkerHost } from '../web/runtime/python-worker-host.ts';

let assetsBase: string | undefined;

async function loadPyodide(): Promise<PyodideInterface> {
  if (assetsBase === undefined) throw new Error('the Python worker was not configured');
  const indexURL = `${assetsBase}pyodide/`;
  const url = `${indexURL}pyodide.mjs`;
  let pyodide: { loadPyodide(options: { indexURL: string }): Promise<PyodideInterface> };
  try {
    pyodide = await import(/* webpackIgnore: true */ /* @vite-ignore */ url);
  } catch (error) {
    throw new Error(
      `cannot load Pyodide from ${url} (${error instanceof Error ? error.message : String(error)}): serve the runtime's assets folder there or pass createRuntime({ assetsBase })`,
      { cause: error },
    );
  }
  return pyodide.loadPyodide({ indexURL });
}

class PythonWorkerHost extends PythonHost {
  /** Called by the page once, before Pyodide is first needed. */
  configure(config: Pick<WorkerConfig, 'assetsBase'>): void {
    assetsBase = config.assetsBase;
  }
}

installErrorTransfer();
expose(pythonWorkerHost(new PythonWorkerHost(loadPyodide, pythonSources)));
