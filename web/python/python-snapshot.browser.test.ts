import { type Remote, wrap } from 'comlink';
import { loadPyodide, version } from 'pyodide';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PipelineRunner } from '../core/internal.ts';
import { resolveAssetsBase } from '../runtime/assets.ts';
import { pythonNodeOutputs } from '../../tests/python-snapshot-cases.ts';
import type { PythonHost } from './python-host.ts';
import { PYTHON_IMPORTS, type PythonRuntime, startPythonRuntime } from './python-runtime.ts';
import {
  decodeSnapshot,
  encodeSnapshot,
  snapshotKey,
  type SnapshotStore,
} from './python-snapshot.ts';
import { indexedDbSnapshotStore, shippedSnapshotStore } from './python-snapshot-browser.ts';
import { pythonSources } from './python-sources.ts';

/**
 * Pyodide in Chromium from a memory snapshot: the one `npm run build` ships (made
 * in Node), and one made on first run and kept in IndexedDB; each gives the same
 * PythonNode outputs as the plain start, and a stale or corrupt one is passed over
 * with a log line.
 */
const assetsBase = resolveAssetsBase(undefined);
const key = snapshotKey(version, pythonSources, PYTHON_IMPORTS);

function start(stores: SnapshotStore[] | undefined, log: string[] = []): Promise<PythonRuntime> {
  return startPythonRuntime({
    load: (snapshot) => loadPyodide({ ...snapshot }),
    files: pythonSources,
    runner: new PipelineRunner(),
    snapshot: stores && { pyodideVersion: version, stores, log: (line) => log.push(line) },
  });
}

async function clearIndexedDb(): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const r = indexedDB.deleteDatabase('remotemedia-python');
    r.onsuccess = () => resolve();
    r.onerror = () => reject(r.error);
  });
}

describe('Python from a memory snapshot (Chromium)', () => {
  let plain: unknown[];
  beforeAll(async () => {
    await clearIndexedDb();
    plain = await pythonNodeOutputs(await start(undefined));
  }, 120_000);
  afterAll(clearIndexedDb);

  it('first run keeps one in IndexedDB; the next start comes from it with the same outputs', async () => {
    const log: string[] = [];
    const first = await start([indexedDbSnapshotStore()], log);
    expect(first.snapshotFrom).toBeUndefined();
    await first.snapshotKept;
    expect(log).toEqual([expect.stringMatching(/^Python snapshot kept in IndexedDB \(\d/)]);
    const second = await start([indexedDbSnapshotStore()], log);
    expect(second.snapshotFrom).toBe('IndexedDB');
    expect(await pythonNodeOutputs(second)).toEqual(plain);
  }, 120_000);

  it('a stale IndexedDB snapshot (other sources) falls back to the plain start, with a log line', async () => {
    const other = snapshotKey(
      version,
      { ...pythonSources, 'remotemedia/x.py': '' },
      PYTHON_IMPORTS,
    );
    await indexedDbSnapshotStore().put!(key, await encodeSnapshot(other, new Uint8Array(64)));
    const log: string[] = [];
    const runtime = await start([indexedDbSnapshotStore()], log);
    expect(runtime.snapshotFrom).toBeUndefined();
    expect(log[0]).toMatch(
      /^Python snapshot from IndexedDB not used: stale: made for .* plain start$/,
    );
    expect(await pythonNodeOutputs(runtime)).toEqual(plain);
  }, 120_000);

  it('a corrupt shipped file falls back to the plain start, with a log line', async () => {
    const garbage: SnapshotStore = {
      name: 'shipped',
      get: async () => new Uint8Array(4096).fill(7),
    };
    const log: string[] = [];
    const runtime = await start([garbage], log);
    expect(runtime.snapshotFrom).toBeUndefined();
    expect(log).toEqual([
      expect.stringMatching(/^Python snapshot from shipped not used: not a gzip file/),
    ]);
    expect(await pythonNodeOutputs(runtime)).toEqual(plain);
  }, 120_000);

  it('the Python worker starts from the shipped snapshot (or, if that is stale, plain), then from its raw copy in IndexedDB', async () => {
    await clearIndexedDb();
    const shipped = await shippedSnapshotStore(assetsBase).get(key);
    // Current when this build's sources are those of the dev server: `npm test` builds first.
    const current = shipped !== undefined && (await decodeSnapshot(shipped, key)).ok;
    const starts: (string | undefined)[] = [];
    for (let i = 0; i < 2; i++) {
      const worker = new Worker(new URL('../../workers/python-worker.ts', import.meta.url), {
        type: 'module',
      });
      try {
        const host = wrap(worker) as unknown as Remote<
          PythonHost & { configure(c: { assetsBase: string }): void }
        >;
        await host.configure({ assetsBase });
        starts.push((await host.startInfo(true)).snapshotFrom);
      } finally {
        worker.terminate();
      }
    }
    console.info(
      `Python worker starts: ${starts.join(', ')} (shipped snapshot ${current ? 'current' : 'missing or stale'})`,
    );
    // From the shipped one, which is copied raw to IndexedDB; or plain, keeping one there.
    expect(starts).toEqual([current ? 'shipped' : undefined, 'IndexedDB']);
  }, 120_000);
});
