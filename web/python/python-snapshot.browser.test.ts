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
import {
  indexedDbSnapshotStore,
  opfsSnapshotStore,
  shippedSnapshotStore,
} from './python-snapshot-browser.ts';
import { pythonSources } from './python-sources.ts';

/**
 * Pyodide in Chromium from a memory snapshot: the one `npm run build` ships (made
 * in Node), and one made on first run and kept in OPFS or IndexedDB; each gives the same
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

async function clearOpfs(): Promise<void> {
  const dir = await navigator.storage.getDirectory();
  await dir.removeEntry('remotemedia-python.snapshot').catch(() => {});
}

describe('Python from a memory snapshot (Chromium)', () => {
  let plain: unknown[];
  beforeAll(async () => {
    await clearIndexedDb();
    await clearOpfs();
    plain = await pythonNodeOutputs(await start(undefined));
  }, 120_000);
  afterAll(async () => {
    await clearIndexedDb();
    await clearOpfs();
  });

  it('first run keeps one in OPFS; the next start comes from it with the same outputs', async () => {
    const log: string[] = [];
    const first = await start([opfsSnapshotStore()], log);
    expect(first.snapshotFrom).toBeUndefined();
    await first.snapshotKept;
    expect(log).toEqual([expect.stringMatching(/^Python snapshot kept in OPFS \(\d.* raw/)]);
    const second = await start([opfsSnapshotStore()], log);
    expect(second.snapshotFrom).toBe('OPFS');
    expect(await pythonNodeOutputs(second)).toEqual(plain);
  }, 120_000);

  it('a stale or cut short OPFS snapshot falls back to the plain start, with one log line', async () => {
    const other = snapshotKey(
      version,
      { ...pythonSources, 'remotemedia/x.py': '' },
      PYTHON_IMPORTS,
    );
    const store = opfsSnapshotStore();
    const whole = await decodeSnapshot((await store.get(key))!, key);
    if (!whole.ok) throw new Error(whole.reason);
    const raw = await encodeSnapshot(key, whole.snapshot, false);
    const cases: [Uint8Array, RegExp][] = [
      [await encodeSnapshot(other, new Uint8Array(64), false), /stale: made for .* plain start$/],
      [raw.subarray(0, raw.length >> 1), /it is cut short/],
    ];
    for (const [bytes, reason] of cases) {
      await store.put!(key, bytes);
      const log: string[] = [];
      const runtime = await start([store], log);
      expect(runtime.snapshotFrom).toBeUndefined();
      await runtime.snapshotKept;
      expect(log).toEqual([
        expect.stringMatching(/^Python snapshot from OPFS not used: /),
        expect.stringMatching(/^Python snapshot kept in OPFS/),
      ]);
      expect(log[0]).toMatch(reason);
      expect(await pythonNodeOutputs(runtime)).toEqual(plain);
    }
  }, 240_000);

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
      expect.stringMatching(
        /^Python snapshot from shipped not used: not a RemoteMedia Python snapshot \(neither gzip'd nor ours/,
      ),
    ]);
    expect(await pythonNodeOutputs(runtime)).toEqual(plain);
  }, 120_000);

  it('the Python worker starts from the shipped snapshot (or, if that is stale, plain), then from its raw copy in OPFS', async () => {
    await clearIndexedDb();
    await clearOpfs();
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
    // From the shipped one, which is copied raw to OPFS; or plain, keeping one there.
    expect(starts).toEqual([current ? 'shipped' : undefined, 'OPFS']);
  }, 120_000);
});
