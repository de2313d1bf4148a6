/**
 * Python snapshots on Node (the build script, Node tests, benchmarks): a file on
 * disk is a store, and the built package holds the snapshot the browser build
 * ships (`npm run build` makes it: scripts/make-python-snapshot.mjs). Node starts
 * like a browser's later visits do: from a raw copy in a per-user cache, made from
 * the shipped file on the first start.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import type { SnapshotStore } from './python-snapshot.ts';

/** Where the build writes the snapshot, relative to the package root. */
export const BUILT_SNAPSHOT = 'dist/web/python/remotemedia.snapshot';

const gunzipAsync = promisify(gunzip);

/**
 * A snapshot kept in one file: read as it is, replaced whole (written beside, then
 * renamed, so a reader never sees half a file). `raw` keeps it uncompressed
 * (quicker starts, 2.5x the room). A gzip'd file is decompressed with node:zlib, on
 * libuv's thread pool: several times quicker than DecompressionStream here, and
 * off the thread that loads Pyodide meanwhile.
 */
export function fileSnapshotStore(
  path: string,
  { readOnly = false, raw = false }: { readOnly?: boolean; raw?: boolean } = {},
): SnapshotStore {
  return {
    name: path,
    raw,
    async get() {
      let file: Buffer;
      try {
        file = await readFile(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
      if (file[0] === 0x1f && file[1] === 0x8b) {
        try {
          file = await gunzipAsync(file);
        } catch {
          // Broken: decodeSnapshot tries it again and says how, as on every platform.
        }
      }
      return new Uint8Array(file.buffer as ArrayBuffer, file.byteOffset, file.length);
    },
    ...(!readOnly && {
      async put(_key: string, file: Uint8Array) {
        await mkdir(dirname(path), { recursive: true });
        const partial = `${path}.${process.pid}.partial`;
        try {
          await writeFile(partial, file);
          await rename(partial, path);
        } catch (error) {
          await rm(partial, { force: true });
          throw error;
        }
      },
    }),
  };
}

/**
 * The per-user cache folder: $XDG_CACHE_HOME/remotemedia-web, else
 * ~/.cache/remotemedia-web (the XDG default, which macOS tools use too).
 */
export function userCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'remotemedia-web');
}

/**
 * The stores Node starts from, in order: a raw copy in the user's cache (one
 * file, replaced when the key changes: its header names the key, so a stale or
 * corrupt copy is passed over with a log line and the next start makes a new one),
 * then the shipped gzip'd file (read-only). A start from the shipped file keeps its
 * raw copy in the cache for the next.
 */
export function nodeSnapshotStores({
  shipped = BUILT_SNAPSHOT,
  cacheDir = userCacheDir(),
}: { shipped?: string; cacheDir?: string } = {}): SnapshotStore[] {
  return [
    fileSnapshotStore(join(cacheDir, 'python.snapshot'), { raw: true }),
    fileSnapshotStore(shipped, { readOnly: true }),
  ];
}
