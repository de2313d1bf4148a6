/**
 * Python snapshots in browsers: the one the build ships in the assets folder
 * (precached by the demo's service worker), and one made on first run and kept in
 * IndexedDB, for a build that ships none or ships one for other sources.
 */
import { SNAPSHOT_ASSET, type SnapshotStore } from './python-snapshot.ts';

/** The shipped file, `python/remotemedia.snapshot` in the assets folder; read-only. */
export function shippedSnapshotStore(assetsBase: string): SnapshotStore {
  return {
    name: 'shipped',
    async get() {
      const response = await fetch(new URL(SNAPSHOT_ASSET, assetsBase));
      // Not shipped (a dev server without a build, an embedder who left it out).
      if (response.status === 404 || !response.body) return undefined;
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      // Whole, not streamed: a server (or cache) may have decoded the gzip already,
      // which decodeSnapshot tells by its first bytes.
      return new Uint8Array(await response.arrayBuffer());
    },
  };
}

const DB = 'remotemedia-python';
const STORE = 'snapshots';

/**
 * One snapshot in IndexedDB (a new one replaces the old: keys of stale sources go),
 * kept raw: 31 MB of the user's disk for a start that skips decompressing.
 */
export function indexedDbSnapshotStore(): SnapshotStore {
  return {
    name: 'IndexedDB',
    raw: true,
    async get(key) {
      const db = await open();
      try {
        const value = await request<unknown>(db.transaction(STORE).objectStore(STORE).get(key));
        return value instanceof Uint8Array ? (value as Uint8Array<ArrayBuffer>) : undefined;
      } finally {
        db.close();
      }
    },
    async put(key, file) {
      const db = await open();
      try {
        const transaction = db.transaction(STORE, 'readwrite');
        const store = transaction.objectStore(STORE);
        store.clear();
        store.put(file, key);
        await new Promise<void>((resolve, reject) => {
          transaction.oncomplete = () => resolve();
          transaction.onerror = () => reject(transaction.error);
          transaction.onabort = () => reject(transaction.error ?? new Error('aborted'));
        });
      } finally {
        db.close();
      }
    },
  };
}

function open(): Promise<IDBDatabase> {
  if (typeof indexedDB === 'undefined') return Promise.reject(new Error('no IndexedDB here'));
  const opening = indexedDB.open(DB, 1);
  opening.onupgradeneeded = () => opening.result.createObjectStore(STORE);
  return request(opening);
}

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}
