/**
 * Python snapshots in browsers: the one the build ships in the assets folder
 * (precached by the demo's service worker), and a raw copy kept on the user's disk
 * after the first start, for quicker later starts: in the origin private file
 * system (OPFS) where the browser can write there from a worker, else IndexedDB.
 * A build that ships none (or one for other sources) makes one on first run.
 */
import { SNAPSHOT_ASSET, type SnapshotFile, type SnapshotStore } from './python-snapshot.ts';

/**
 * The stores a Python worker starts from, in order: the raw copy on the user's
 * disk, then the shipped file (whose first start keeps the copy).
 */
export function browserSnapshotStores(assetsBase: string): SnapshotStore[] {
  return [
    opfsWritable() ? opfsSnapshotStore() : indexedDbSnapshotStore(),
    shippedSnapshotStore(assetsBase),
  ];
}

/**
 * The shipped file, `python/remotemedia.snapshot` in the assets folder; read-only.
 * Resolves once the response's status is in; the file (6 MB gzip'd) is
 * decompressed in a worker of its own, on another core, while this thread loads
 * Pyodide: here the two took turns on one thread and decompressing cost 0.3–0.8 s
 * of the start.
 */
export function shippedSnapshotStore(assetsBase: string): SnapshotStore {
  return {
    name: 'shipped',
    async get() {
      const response = await fetch(new URL(SNAPSHOT_ASSET, assetsBase));
      // Not shipped (a dev server without a build, an embedder who left it out).
      if (response.status === 404 || !response.body) return undefined;
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return oneChunk(response.arrayBuffer().then((body) => gunzipElsewhere(new Uint8Array(body))));
    },
  };
}

/** A stream of one chunk, read as soon as it is made (decodeSnapshot reads it). */
function oneChunk(chunk: Promise<Uint8Array<ArrayBuffer>>): SnapshotFile {
  return new ReadableStream({
    async start(controller) {
      controller.enqueue(await chunk);
      controller.close();
    },
  });
}

/**
 * The file decompressed in a worker started for it (from a blob: the prebuilt
 * build ships no file for it), its buffer transferred back, not copied. Bytes
 * that are not gzip (a server or cache decoded them already) come back as they
 * are; where no such worker can run (no nested workers, a CSP without blob:
 * workers) or it fails, the gzip'd bytes come back, and decodeSnapshot
 * decompresses them on this thread (and says how they are broken, if they are).
 */
function gunzipElsewhere(file: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  if (file[0] !== 0x1f || file[1] !== 0x8b || typeof Worker === 'undefined') {
    return Promise.resolve(file);
  }
  let url: string | undefined;
  let worker: Worker | undefined;
  return new Promise<Uint8Array<ArrayBuffer>>((resolve) => {
    try {
      url = URL.createObjectURL(
        new Blob([`(${gunzipWorker.toString()})()`], { type: 'text/javascript' }),
      );
      worker = new Worker(url);
    } catch {
      resolve(file);
      return;
    }
    worker.onmessage = (event: MessageEvent<Uint8Array<ArrayBuffer> | undefined>) =>
      resolve(event.data ?? file);
    worker.onerror = (event) => {
      event.preventDefault();
      resolve(file);
    };
    // A copy (6 MB, a few ms): the gzip'd bytes stay here in case it fails.
    worker.postMessage(file);
  }).finally(() => {
    worker?.terminate();
    if (url) URL.revokeObjectURL(url);
  });
}

/**
 * The decompressing worker's whole code, run from a blob: it must not name
 * anything outside itself. Fills a buffer of the size the gzip trailer gives
 * (the length mod 2^32; a snapshot is far below 4 GiB), so no chunks are joined.
 */
function gunzipWorker(): void {
  self.onmessage = async (event: MessageEvent<Uint8Array<ArrayBuffer>>) => {
    try {
      const file = event.data;
      const size = new DataView(file.buffer, file.byteOffset + file.length - 4).getUint32(0, true);
      let out = new Uint8Array(size);
      let length = 0;
      const reader = new Blob([file])
        .stream()
        .pipeThrough(new DecompressionStream('gzip'))
        .getReader();
      for (;;) {
        const next = await reader.read();
        if (next.done) break;
        if (length + next.value.length > out.length) {
          const bigger = new Uint8Array(Math.max(out.length * 2, length + next.value.length));
          bigger.set(out.subarray(0, length));
          out = bigger;
        }
        out.set(next.value, length);
        length += next.value.length;
      }
      const whole = length === out.length ? out : out.slice(0, length);
      (self as unknown as Worker).postMessage(whole, [whole.buffer]);
    } catch {
      (self as unknown as Worker).postMessage(undefined);
    }
  };
}

const OPFS_FILE = 'remotemedia-python.snapshot';

/** Whether this thread can write OPFS files asynchronously (Safari's workers cannot yet). */
function opfsWritable(): boolean {
  return (
    typeof navigator !== 'undefined' &&
    typeof navigator.storage?.getDirectory === 'function' &&
    typeof FileSystemFileHandle !== 'undefined' &&
    'createWritable' in FileSystemFileHandle.prototype
  );
}

/**
 * One raw snapshot in the origin private file system (a new one replaces the old,
 * written to the browser's swap file and swapped in whole on close): reading it
 * took a tenth to a fifth of IndexedDB's time for the same bytes here, and is
 * started at once, while Pyodide loads.
 */
export function opfsSnapshotStore(): SnapshotStore {
  return {
    name: 'OPFS',
    raw: true,
    async get() {
      const dir = await navigator.storage.getDirectory();
      let handle: FileSystemFileHandle;
      try {
        handle = await dir.getFileHandle(OPFS_FILE);
      } catch (error) {
        if ((error as DOMException).name === 'NotFoundError') return undefined;
        throw error;
      }
      const file = await handle.getFile();
      return oneChunk(file.arrayBuffer().then((body) => new Uint8Array(body)));
    },
    async put(_key, file) {
      const dir = await navigator.storage.getDirectory();
      const handle = await dir.getFileHandle(OPFS_FILE, { create: true });
      const writable = await handle.createWritable();
      try {
        await writable.write(file as Uint8Array<ArrayBuffer>);
        await writable.close();
      } catch (error) {
        await writable.abort().catch(() => {});
        throw error;
      }
      // Builds before this one kept their copy in IndexedDB: its room is given back.
      if (typeof indexedDB !== 'undefined') indexedDB.deleteDatabase(DB);
    },
  };
}

const DB = 'remotemedia-python';
const STORE = 'snapshots';

/**
 * One snapshot in IndexedDB (a new one replaces the old: keys of stale sources go),
 * kept raw: 15 MB of the user's disk for a start that skips decompressing. Where
 * OPFS cannot be written from a worker.
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
