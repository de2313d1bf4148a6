/**
 * One Pyodide interpreter with the `remotemedia` package installed and the runtime
 * bridge registered: what the Python worker (and the Node tests) start. Everything
 * loads from our own files: Pyodide from its npm package's directory, the package
 * from the sources bundled into the worker.
 *
 * With `snapshot` stores, the interpreter starts from a memory snapshot taken after
 * those imports (python-snapshot.ts): a few hundred ms instead of seconds. A
 * snapshot that is missing, stale or fails to load is passed over with a log line
 * and the plain start runs; that start then makes a snapshot for the stores that
 * can keep one, so the next start is quick.
 */
import type { PyodideInterface } from 'pyodide';
import type { PipelineRunner } from '../core/internal.ts';
import { createRuntimeBridge, type RuntimeBridge } from './runtime-bridge.ts';
import {
  decodeSnapshot,
  encodeSnapshot,
  snapshotKey,
  type SnapshotStore,
} from './python-snapshot.ts';

/** Where the package's files go inside Pyodide's file system (on sys.path). */
export const PACKAGE_ROOT = '/home/pyodide/python-packages';

/** What every start imports: what a snapshot holds already. Part of the snapshot key. */
export const PYTHON_IMPORTS = `import sys\nsys.path.insert(0, ${JSON.stringify(PACKAGE_ROOT)})\nimport remotemedia, remotemedia.node_host, remotemedia_runtime`;

/**
 * Pyodide's (underscored, so unlisted in its types) loadPyodide options for
 * snapshots: `load` passes them on to loadPyodide.
 */
export interface PyodideSnapshotOptions {
  /** A heap to start from (python-snapshot.ts decodes it); awaited once Pyodide needs it. */
  _loadSnapshot?: Uint8Array | Promise<Uint8Array>;
  /** Gives back the JS objects the snapshot names (here: the bridge). */
  _snapshotDeserializer?: (serialized: unknown) => unknown;
  /** Lets makeMemorySnapshot() run later on this interpreter. */
  _makeSnapshot?: boolean;
}

export interface PythonSnapshotOptions {
  /** Pyodide's version (its module's `version` export): part of the key. */
  pyodideVersion: string;
  /**
   * Tried in order; the first with a snapshot for the key is used. After a plain
   * start, a new snapshot goes to every store that can keep one.
   */
  stores: SnapshotStore[];
  /** One line per event (where the snapshot came from, why one was passed over). Default console.info. */
  log?: (line: string) => void;
}

export interface PythonRuntimeOptions {
  /**
   * Loads Pyodide; the caller picks the build (worker or Node) and its indexURL,
   * and passes `snapshot` on to loadPyodide.
   */
  load: (snapshot?: PyodideSnapshotOptions) => Promise<PyodideInterface>;
  /** python-packages files by path relative to python-packages/ (e.g. remotemedia/data.py). */
  files: Record<string, string>;
  /** The core the Python side's remotemedia_runtime runs manifests on. */
  runner: PipelineRunner;
  /** Called as loading moves on: what is happening, and about how far along (0..1). */
  onProgress?: (stage: PythonLoadStage, fraction: number) => void;
  /** Start from a memory snapshot when one of these stores has a current one. */
  snapshot?: PythonSnapshotOptions;
}

export type PythonLoadStage = 'loading Pyodide' | 'installing the remotemedia package' | 'ready';

export interface PythonRuntime {
  pyodide: PyodideInterface;
  /** Milliseconds from start to ready. */
  startupMs: number;
  /** The store whose snapshot it started from; undefined after a plain start. */
  snapshotFrom?: string;
  /**
   * Settles once a snapshot this start made (plain start) or copied (from a shipped
   * one to a cache tried before it) is kept, or failed to be (logged).
   */
  snapshotKept?: Promise<void>;
}

/** How the bridge is named inside a snapshot: the one JS object Python holds then. */
const BRIDGE_MARK = { remotemedia: 'runtime bridge' };

export async function startPythonRuntime(options: PythonRuntimeOptions): Promise<PythonRuntime> {
  const started = performance.now();
  const progress = options.onProgress ?? (() => {});
  const bridge = createRuntimeBridge(options.runner);
  const snapshot = options.snapshot;
  const log = snapshot?.log ?? ((line: string) => console.info(line));
  const key = snapshot && snapshotKey(snapshot.pyodideVersion, options.files, PYTHON_IMPORTS);
  progress('loading Pyodide', 0);

  const restored =
    snapshot && key ? await fromSnapshot(options, snapshot, key, bridge, log) : undefined;
  if (restored) {
    progress('installing the remotemedia package', 0.9);
    // The heap holds the imported modules; the files are for what imports later
    // (remotemedia.nodes, a node_type naming a module) and live outside the heap.
    installFiles(restored.pyodide, options.files);
    // Pyodide's start puts '' first on sys.path again, where the snapshot has it
    // already (after the package root): as the plain start leaves it.
    restored.pyodide.runPython(
      `import sys\nif sys.path[0] == '' and '' in sys.path[1:]:\n    del sys.path[0]`,
    );
    // A shipped snapshot is gzip'd: a cache tried before it keeps it raw, for
    // quicker starts from then on.
    const kept =
      restored.copyTo.length > 0
        ? storeSnapshot(key!, restored.heap, restored.copyTo, log)
        : undefined;
    progress('ready', 1);
    return {
      pyodide: restored.pyodide,
      startupMs: performance.now() - started,
      snapshotFrom: restored.from,
      snapshotKept: kept,
    };
  }

  const writable = snapshot?.stores.filter((store) => store.put) ?? [];
  const pyodide = await options.load(writable.length > 0 ? { _makeSnapshot: true } : undefined);
  progress('installing the remotemedia package', 0.9);
  installFiles(pyodide, options.files);
  pyodide.registerJsModule('_remotemedia_js', bridge);
  await pyodide.runPythonAsync(PYTHON_IMPORTS);
  // Taken now, before any node's code runs: the heap is what every start shares.
  const kept =
    writable.length > 0 && key ? keepSnapshot(pyodide, bridge, key, writable, log) : undefined;
  progress('ready', 1);
  return { pyodide, startupMs: performance.now() - started, snapshotKept: kept };
}

function installFiles(pyodide: PyodideInterface, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    const full = `${PACKAGE_ROOT}/${path}`;
    pyodide.FS.mkdirTree(full.slice(0, full.lastIndexOf('/')));
    pyodide.FS.writeFile(full, text);
  }
}

/** The first store's snapshot that is current and loads; undefined when none does. */
async function fromSnapshot(
  options: PythonRuntimeOptions,
  snapshot: PythonSnapshotOptions,
  key: string,
  bridge: RuntimeBridge,
  log: (line: string) => void,
): Promise<
  { pyodide: PyodideInterface; from: string; heap: Uint8Array; copyTo: SnapshotStore[] } | undefined
> {
  for (const store of snapshot.stores) {
    const passOver = (why: string) =>
      log(`Python snapshot from ${store.name} not used: ${why}; trying the next or a plain start`);
    let file: Awaited<ReturnType<SnapshotStore['get']>>;
    try {
      file = await store.get(key);
    } catch (error) {
      passOver(`cannot read it (${errorText(error)})`);
      continue;
    }
    if (!file) continue;
    // Decoded while Pyodide fetches and compiles its own files: it awaits the heap
    // only when it sizes the memory.
    let refused: string | undefined;
    const heap = decodeSnapshot(file, key).then((decoded) => {
      if (decoded.ok) return decoded.snapshot;
      refused = decoded.reason;
      throw new Error(decoded.reason);
    });
    heap.catch(() => {}); // seen below, through load(), or dropped if load fails first
    try {
      const pyodide = await options.load({
        _loadSnapshot: heap,
        _snapshotDeserializer: (mark) => {
          if ((mark as typeof BRIDGE_MARK)?.remotemedia === BRIDGE_MARK.remotemedia) return bridge;
          throw new Error(
            `the snapshot names a JS object this runtime does not have: ${JSON.stringify(mark)}`,
          );
        },
      });
      // What the bridge answers is what the imported package sees: check it is ours.
      if (
        pyodide.runPython('import remotemedia_runtime\nremotemedia_runtime.where()') !== 'pyodide'
      ) {
        throw new Error('remotemedia_runtime does not reach the bridge');
      }
      log(`Python started from the ${store.name} snapshot (${key})`);
      const before = snapshot.stores.slice(0, snapshot.stores.indexOf(store));
      return { pyodide, from: store.name, heap: await heap, copyTo: before.filter((s) => s.put) };
    } catch (error) {
      passOver(refused ?? `Pyodide refused it (${errorText(error)})`);
    }
  }
  return undefined;
}

/** Makes the snapshot and hands it to each writable store, in the background. */
function keepSnapshot(
  pyodide: PyodideInterface,
  bridge: RuntimeBridge,
  key: string,
  stores: SnapshotStore[],
  log: (line: string) => void,
): Promise<void> {
  let heap: Uint8Array;
  try {
    heap = (
      pyodide as unknown as {
        makeMemorySnapshot(o: { serializer: (o: unknown) => unknown }): Uint8Array;
      }
    ).makeMemorySnapshot({
      serializer: (object) => {
        if (object === bridge) return BRIDGE_MARK;
        throw new Error('Python holds a JS object other than the runtime bridge');
      },
    });
  } catch (error) {
    log(`Python snapshot not made: ${errorText(error)}`);
    return Promise.resolve();
  }
  return storeSnapshot(key, heap, stores, log);
}

/**
 * How long after a start its snapshot is written. Encoding it and handing 15 MB to
 * a store hold the thread for some 150 ms (measured in Chromium, OPFS): done at
 * once, that fell on the first block. A session's first blocks come within this.
 */
const KEEP_AFTER_MS = 1000;

/** Hands a heap to each store, as each wants it (gzip'd or raw), in the background. */
function storeSnapshot(
  key: string,
  heap: Uint8Array,
  stores: SnapshotStore[],
  log: (line: string) => void,
): Promise<void> {
  return (async () => {
    await new Promise((resolve) => setTimeout(resolve, KEEP_AFTER_MS));
    const files = new Map<boolean, Promise<Uint8Array>>();
    for (const store of stores) {
      const raw = store.raw ?? false;
      if (!files.has(raw)) files.set(raw, encodeSnapshot(key, heap, !raw));
      try {
        const file = await files.get(raw)!;
        await store.put!(key, file);
        log(
          `Python snapshot kept in ${store.name} (${(file.length / 2 ** 20).toFixed(1)} MiB${raw ? ' raw' : ''}, ${key})`,
        );
      } catch (error) {
        log(`Python snapshot not kept in ${store.name}: ${errorText(error)}`);
      }
    }
  })().catch((error: unknown) => log(`Python snapshot not kept: ${errorText(error)}`));
}

function errorText(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).trim().split('\n')[0]!;
}
