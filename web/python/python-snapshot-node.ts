/**
 * Python snapshots on Node (the build script, Node tests, benchmarks): a file on
 * disk is a store, and the built package holds the snapshot the browser build
 * ships (`npm run build` makes it: scripts/make-python-snapshot.mjs).
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { SnapshotStore } from './python-snapshot.ts';

/** Where the build writes the snapshot, relative to the package root. */
export const BUILT_SNAPSHOT = 'dist/web/python/remotemedia.snapshot';

/**
 * A snapshot kept in one file: read as it is, replaced whole (written beside, then
 * renamed). `raw` keeps it uncompressed (quicker starts, 5x the room).
 */
export function fileSnapshotStore(
  path: string,
  { readOnly = false, raw = false }: { readOnly?: boolean; raw?: boolean } = {},
): SnapshotStore {
  return {
    name: path,
    raw,
    async get() {
      try {
        const file = await readFile(path);
        return new Uint8Array(file.buffer, file.byteOffset, file.length);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    },
    ...(!readOnly && {
      async put(_key: string, file: Uint8Array) {
        await mkdir(dirname(path), { recursive: true });
        const partial = `${path}.${process.pid}.partial`;
        await writeFile(partial, file);
        await rename(partial, path);
      },
    }),
  };
}
