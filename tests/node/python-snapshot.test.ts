import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPyodide, version } from 'pyodide';
import { afterAll, describe, expect, it } from 'vitest';
import { PipelineRunner } from '../../web/core/internal.ts';
import { PYTHON_IMPORTS, startPythonRuntime } from '../../web/python/python-runtime.ts';
import {
  decodeSnapshot,
  encodeSnapshot,
  snapshotKey,
  type SnapshotStore,
} from '../../web/python/python-snapshot.ts';
import {
  fileSnapshotStore,
  nodeSnapshotStores,
  userCacheDir,
} from '../../web/python/python-snapshot-node.ts';
import { pythonPackageFiles } from '../python-files.ts';
import { pythonNodeOutputs } from '../python-snapshot-cases.ts';

/**
 * Pyodide in Node started from a memory snapshot (web/python/python-snapshot.ts)
 * against the plain start: the same outputs for PythonNodes; a stale or corrupt
 * snapshot is passed over with a log line and the plain start runs.
 */
const files = Object.fromEntries(
  Object.entries(pythonPackageFiles()).filter(([path]) => /^remotemedia(_runtime)?\//.test(path)),
);
const dir = mkdtempSync(join(tmpdir(), 'remotemedia-snapshot-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function start(store: SnapshotStore | SnapshotStore[] | undefined, log: string[]) {
  return startPythonRuntime({
    load: (snapshot) => loadPyodide({ ...snapshot }),
    files,
    runner: new PipelineRunner(),
    snapshot: store && { pyodideVersion: version, stores: [store].flat(), log: (l) => log.push(l) },
  });
}

describe('Python from a memory snapshot (Node)', () => {
  const path = join(dir, 'remotemedia.snapshot.gz');
  let plain: unknown[];

  it('a plain start makes a snapshot; the next start comes from it with the same outputs', async () => {
    const log: string[] = [];
    const raw = join(dir, 'remotemedia.snapshot');
    const first = await start(
      [fileSnapshotStore(path), fileSnapshotStore(raw, { raw: true })],
      log,
    );
    expect(first.snapshotFrom).toBeUndefined();
    await first.snapshotKept;
    expect(log).toEqual([
      expect.stringMatching(/^Python snapshot kept in .*remotemedia\.snapshot\.gz \(\d/),
      expect.stringMatching(/^Python snapshot kept in .*remotemedia\.snapshot \(.* raw, pyodide-/),
    ]);
    plain = await pythonNodeOutputs(first);
    expect(plain[0]).toMatchObject({ frames: 320 });
    expect(plain.at(-1)).toBe('[6, 7]');
    const sysPath = 'import sys\nsys.path';

    for (const kept of [path, raw]) {
      const next = await start(fileSnapshotStore(kept, { readOnly: true }), log);
      expect(next.snapshotFrom).toBe(kept);
      expect(log.at(-1)).toMatch(/^Python started from the .* snapshot \(pyodide-/);
      expect(await pythonNodeOutputs(next)).toEqual(plain);
      // Pyodide's own start added '' to sys.path again: the path is as after a plain start.
      expect(next.pyodide.runPython(sysPath).toJs()).toEqual(
        first.pyodide.runPython(sysPath).toJs(),
      );
    }
  }, 180_000);

  it('a start from a read-only snapshot copies it, raw, to a writable store tried before it', async () => {
    const log: string[] = [];
    const cache = join(dir, 'cache.snapshot');
    const stores = [
      fileSnapshotStore(cache, { raw: true }),
      fileSnapshotStore(path, { readOnly: true }),
    ];
    const first = await start(stores, log);
    expect(first.snapshotFrom).toBe(path);
    await first.snapshotKept;
    expect(log.at(-1)).toMatch(/^Python snapshot kept in .*cache\.snapshot \(.* raw/);
    const second = await start(stores, log);
    expect(second.snapshotFrom).toBe(cache);
    expect(await pythonNodeOutputs(second)).toEqual(plain);
  }, 120_000);

  it('a stale snapshot (other sources) is passed over with a log line; the plain start replaces it', async () => {
    const log: string[] = [];
    const other = snapshotKey(
      version,
      { ...files, 'remotemedia/extra.py': 'x = 1\n' },
      PYTHON_IMPORTS,
    );
    const heap = new Uint8Array(readFileSync(path)); // any bytes: the key is checked first
    writeFileSync(path, await encodeSnapshot(other, heap));
    const runtime = await start(fileSnapshotStore(path), log);
    expect(runtime.snapshotFrom).toBeUndefined();
    expect(log[0]).toMatch(
      /not used: stale: made for pyodide-.*this runtime is pyodide-.*plain start/,
    );
    expect(await pythonNodeOutputs(runtime)).toEqual(plain);
    await runtime.snapshotKept;
    expect((await start(fileSnapshotStore(path), log)).snapshotFrom).toBe(path);
  }, 120_000);

  it('a corrupt snapshot falls back to the plain start, whatever is wrong with it', async () => {
    const key = snapshotKey(version, files, PYTHON_IMPORTS);
    const good = new Uint8Array(readFileSync(path));
    const decoded = await decodeSnapshot(good, key);
    if (!decoded.ok) throw new Error(decoded.reason);
    const raw = await encodeSnapshot(key, decoded.snapshot, false);
    const oldFormat = new Uint8Array(64);
    oldFormat.set(new TextEncoder().encode('RMPYSNAP'));
    const cases: [string, Uint8Array, RegExp][] = [
      [
        'not gzip',
        new TextEncoder().encode('hello'),
        /not a RemoteMedia Python snapshot \(neither gzip'd nor ours/,
      ],
      ['cut short', good.subarray(0, good.length >> 1), /a broken gzip file|cut short/],
      ['raw, cut short', raw.subarray(0, raw.length >> 1), /it is cut short/],
      ['not ours', await gzip(new Uint8Array(64)), /not a RemoteMedia Python snapshot/],
      ['an older format', oldFormat, /stale: an older snapshot format/],
      // Our header and the right key over a heap that is not Pyodide's.
      [
        'a heap Pyodide refuses',
        await encodeSnapshot(key, new Uint8Array(1 << 16)),
        /Pyodide refused it/,
      ],
    ];
    for (const [name, bytes, reason] of cases) {
      const corrupt = join(dir, `${name}.gz`);
      writeFileSync(corrupt, bytes);
      const log: string[] = [];
      const runtime = await start(fileSnapshotStore(corrupt, { readOnly: true }), log);
      expect(runtime.snapshotFrom, name).toBeUndefined();
      expect(log, name).toHaveLength(1);
      expect(log[0], name).toMatch(reason);
      expect(await pythonNodeOutputs(runtime), name).toEqual(plain);
    }
  }, 240_000);
});

describe('the per-user cache (Node)', () => {
  const shipped = join(dir, 'remotemedia.snapshot.gz');
  const cacheDir = join(dir, 'user-cache');
  const cached = join(cacheDir, 'python.snapshot');
  const stores = () => nodeSnapshotStores({ shipped, cacheDir });

  it('is $XDG_CACHE_HOME/remotemedia-web, else ~/.cache/remotemedia-web', () => {
    expect(userCacheDir({ XDG_CACHE_HOME: '/x' })).toBe(join('/x', 'remotemedia-web'));
    expect(userCacheDir({})).toMatch(/[/\\]\.cache[/\\]remotemedia-web$/);
  });

  it('a first start comes from the shipped file and keeps a raw copy; the next comes from the copy', async () => {
    rmSync(cacheDir, { recursive: true, force: true });
    const log: string[] = [];
    const first = await start(stores(), log);
    expect(first.snapshotFrom).toBe(shipped);
    await first.snapshotKept;
    expect(log.at(-1)).toMatch(/^Python snapshot kept in .*python\.snapshot \(.* raw, pyodide-/);
    // Written beside and renamed: only the whole file is left.
    expect(readdirSync(cacheDir)).toEqual(['python.snapshot']);
    const second = await start(stores(), log);
    expect(second.snapshotFrom).toBe(cached);
    expect(second.snapshotKept).toBeUndefined();
    expect(await pythonNodeOutputs(second)).toEqual(await pythonNodeOutputs(first));
  }, 120_000);

  it('a stale or corrupt copy is passed over with one log line, the shipped file used and the copy replaced', async () => {
    const key = snapshotKey(version, files, PYTHON_IMPORTS);
    const other = snapshotKey(version, { ...files, 'remotemedia/x.py': '' }, PYTHON_IMPORTS);
    const whole = new Uint8Array(readFileSync(cached));
    const cases: [string, Uint8Array, RegExp][] = [
      ['stale', await encodeSnapshot(other, new Uint8Array(1 << 16), false), /stale: made for/],
      ['cut short', whole.subarray(0, whole.length >> 1), /it is cut short/],
      [
        'garbage',
        new Uint8Array(4096).fill(7),
        /not a RemoteMedia Python snapshot \(neither gzip'd nor ours/,
      ],
    ];
    for (const [name, bytes, reason] of cases) {
      writeFileSync(cached, bytes);
      const log: string[] = [];
      const runtime = await start(stores(), log);
      expect(runtime.snapshotFrom, name).toBe(shipped);
      await runtime.snapshotKept;
      expect(log, name).toEqual([
        expect.stringMatching(new RegExp(`python\\.snapshot not used: ${reason.source}`)),
        expect.stringMatching(/^Python started from the .* snapshot/),
        expect.stringMatching(/^Python snapshot kept in .*python\.snapshot \(.* raw/),
      ]);
      const decoded = await decodeSnapshot(new Uint8Array(readFileSync(cached)), key);
      expect(decoded.ok, name).toBe(true);
    }
  }, 240_000);
});

describe('the snapshot key', () => {
  const key = snapshotKey('314.0.7', files, PYTHON_IMPORTS);
  it('is the same for the same sources in any order', () => {
    const reversed = Object.fromEntries(Object.entries(files).reverse());
    expect(snapshotKey('314.0.7', reversed, PYTHON_IMPORTS)).toBe(key);
    expect(key).toMatch(/^pyodide-314\.0\.7-[0-9a-f]{16}$/);
  });
  it('changes when a Python source, the file set, Pyodide or the imports change', () => {
    const [path, text] = Object.entries(files)[0]!;
    const keys = [
      snapshotKey('314.0.7', { ...files, [path]: `${text} ` }, PYTHON_IMPORTS),
      snapshotKey('314.0.7', { ...files, 'remotemedia/new.py': '' }, PYTHON_IMPORTS),
      snapshotKey('314.0.8', files, PYTHON_IMPORTS),
      snapshotKey('314.0.7', files, `${PYTHON_IMPORTS}, json`),
      // Moving text from one file to the next is a change too.
      snapshotKey('314.0.7', { a: 'xy', b: '' }, ''),
    ];
    expect(new Set([key, ...keys]).size).toBe(keys.length + 1);
    expect(keys.at(-1)).not.toBe(snapshotKey('314.0.7', { a: 'x', b: 'y' }, ''));
  });
});

async function gzip(bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
