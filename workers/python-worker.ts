/**
 * Python worker entry: one Pyodide with the remotemedia package, behind a
 * PythonHost on comlink. Pyodide is imported at run time from `pyodide/` in the
 * runtime's assets folder (the page says where, with `configure`), so no bundler
 * has to handle it; the package's Python sources are bundled into this worker.
 * It starts from a memory snapshot when one is current: first the raw copy an
 * earlier run kept (OPFS, else IndexedDB), then the one the build ships in the
 * assets folder.
 */
import { expose } from 'comlink';
import type { PyodideInterface } from 'pyodide';
import { PythonHost } from '../web/python/python-host.ts';
import type { PyodideSnapshotOptions } from '../web/python/python-runtime.ts';
import { browserSnapshotStores } from '../web/python/python-snapshot-browser.ts';
import { pythonSources } from '../web/python/python-sources.ts';
import type { WorkerConfig } from '../web/runtime/assets.ts';
import { installErrorTransfer } from '../web/runtime/error-transfer.ts';
import { pythonWorkerHost } from '../web/runtime/python-worker-host.ts';

interface PyodideModule {
  loadPyodide(options: { indexURL: string } & PyodideSnapshotOptions): Promise<PyodideInterface>;
  version: string;
}

let assetsBase: string | undefined;
let module: Promise<PyodideModule> | undefined;

function pyodideModule(): Promise<PyodideModule> {
  if (assetsBase === undefined) throw new Error('the Python worker was not configured');
  const url = `${assetsBase}pyodide/pyodide.mjs`;
  module ??= import(/* webpackIgnore: true */ /* @vite-ignore */ url).catch((error: unknown) => {
    module = undefined;
    throw new Error(
      `cannot load Pyodide from ${url} (${error instanceof Error ? error.message : String(error)}): serve the runtime's assets folder there or pass createRuntime({ assetsBase })`,
      { cause: error },
    );
  });
  return module;
}

async function loadPyodide(snapshot?: PyodideSnapshotOptions): Promise<PyodideInterface> {
  const pyodide = await pyodideModule();
  return pyodide.loadPyodide({ indexURL: `${assetsBase}pyodide/`, ...snapshot });
}

class PythonWorkerHost extends PythonHost {
  /** Called by the page once, before Pyodide is first needed. */
  configure(config: Pick<WorkerConfig, 'assetsBase'>): void {
    assetsBase = config.assetsBase;
  }
}

installErrorTransfer();
expose(
  pythonWorkerHost(
    new PythonWorkerHost(loadPyodide, pythonSources, async () => ({
      pyodideVersion: (await pyodideModule()).version,
      stores: browserSnapshotStores(assetsBase!),
    })),
  ),
);
