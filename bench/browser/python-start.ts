/**
 * Python start in Chromium: a bare loadPyodide() (the baseline) against the whole
 * cold start a page sees, createRuntime() to the first block out of a PythonNode
 * in a new Python worker, which starts from the memory snapshot: the shipped one
 * on a first visit, its raw copy in IndexedDB after.
 */
import { type Remote, wrap } from 'comlink';
import { loadPyodide } from 'pyodide';
import { createRuntime, type Manifest, RuntimeData } from '../../web/index.ts';
import type { PythonHost } from '../../web/python/python-host.ts';
import { resolveAssetsBase } from '../../web/runtime/assets.ts';

const manifest: Manifest = {
  version: 'v1',
  metadata: { name: 'first block through Python' },
  nodes: [
    {
      id: 'energy',
      node_type: 'PythonNode',
      params: {
        source:
          'from remotemedia import Node\nclass Energy(Node):\n    def process(self, data):\n        return sum(x * x for x in data.samples)\n',
      },
    },
  ],
  connections: [],
};

async function firstBlockMs(): Promise<number> {
  const started = performance.now();
  const runtime = await createRuntime();
  try {
    const block = RuntimeData.audio(new Float32Array(320).fill(0.5), 16000, 1);
    const outputs = await runtime.run(manifest, [block]);
    if (outputs.length !== 1) throw new Error(`expected one output, got ${outputs.length}`);
    return performance.now() - started;
  } finally {
    runtime.dispose();
  }
}

/** Which store the worker's snapshot comes from now (undefined: a plain start). */
async function snapshotSource(): Promise<string | undefined> {
  const worker = new Worker(new URL('../../workers/python-worker.ts', import.meta.url), {
    type: 'module',
  });
  try {
    const host = wrap(worker) as unknown as Remote<
      PythonHost & { configure(c: { assetsBase: string }): void }
    >;
    await host.configure({ assetsBase: resolveAssetsBase(undefined) });
    return (await host.startInfo(true)).snapshotFrom;
  } finally {
    worker.terminate();
  }
}

async function clearIndexedDb(): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const r = indexedDB.deleteDatabase('remotemedia-python');
    r.onsuccess = () => resolve();
    r.onerror = () => reject(r.error);
  });
}

/**
 * Each round: a bare loadPyodide(), then a worker start with nothing kept yet (a
 * first visit: the shipped snapshot, gzip'd), then one from the raw copy that
 * start kept in IndexedDB (every later visit).
 */
async function runPythonStartBench(rounds = 5) {
  await clearIndexedDb();
  const firstFrom = await snapshotSource(); // also warms the dev server's transforms
  const bareMs: number[] = [];
  const firstVisitMs: number[] = [];
  const cachedMs: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const started = performance.now();
    await loadPyodide();
    bareMs.push(performance.now() - started);
    await clearIndexedDb();
    firstVisitMs.push(await firstBlockMs());
    await new Promise((resolve) => setTimeout(resolve, 1000)); // its raw copy is being kept
    cachedMs.push(await firstBlockMs());
  }
  return { bareMs, firstVisitMs, cachedMs, firstFrom, cachedFrom: await snapshotSource() };
}

(window as unknown as { runPythonStartBench: typeof runPythonStartBench }).runPythonStartBench =
  runPythonStartBench;
