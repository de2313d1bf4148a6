/**
 * Memory snapshots of the Python runtime. A snapshot is Pyodide's whole heap taken
 * right after the remotemedia package and the runtime bridge were imported; starting
 * from one is a copy into memory instead of Python's boot and some 200 imports.
 *
 * The file shipped is gzip'd (31 MB of heap is about 6 MB so; a local cache may
 * keep it raw, which starts quicker) and starts, once decompressed, with our header: a magic, and the key it was made for. The key
 * names the Pyodide version, the Python files installed and what was imported, so a
 * snapshot of other sources or another Pyodide is refused, never loaded. Pyodide
 * checks its own build id besides. Compression uses the platform's streams
 * (CompressionStream / DecompressionStream), the same in browsers and Node.
 */

/** Where the shipped snapshot sits in the runtime's assets folder (see web/runtime/assets.ts). */
// No `.gz` in the name: servers that see one add Content-Encoding: gzip, and the
// cache then keeps it decompressed (31 MB). Its content is gzip all the same.
export const SNAPSHOT_ASSET = 'python/remotemedia.snapshot';

/** A kept file, whole or as it streams in (a fetch's body). */
export type SnapshotFile = Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array<ArrayBuffer>>;

/** Where snapshots are kept: a shipped file, IndexedDB, a folder on disk. */
export interface SnapshotStore {
  /** Names the store in log lines ("shipped", "IndexedDB", a path). */
  readonly name: string;
  /** The kept file (as encodeSnapshot made it) for `key`, or undefined when there is none. */
  get(key: string): Promise<SnapshotFile | undefined>;
  /** Keeps a file made for `key`; absent where nothing can be written (a shipped file). */
  put?(key: string, file: Uint8Array): Promise<void>;
  /**
   * Whether `put` gets the file gzip'd (default) or raw: 5x the room (31 MB), but
   * a start skips decompressing it. For caches on the user's own disk.
   */
  readonly raw?: boolean;
}

const MAGIC = 'RMPYSNAP';
/** The heap must start at a multiple of 4 (Pyodide reads it as Uint32Array): keep 16. */
const ALIGN = 16;

/**
 * The key a snapshot is made for: Pyodide's version, a hash of every file
 * installed (path and text) and of what was imported (`recipe`). A 64-bit hash
 * without crypto.subtle, which worker pages served over plain http lack: this is a
 * staleness check, not a signature.
 */
export function snapshotKey(
  pyodideVersion: string,
  files: Record<string, string>,
  recipe: string,
): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  const feed = (text: string) => {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
      h2 ^= h2 >>> 15;
    }
    // A separator no text holds, so that ("ab", "c") and ("a", "bc") differ.
    h1 = Math.imul(h1 ^ 0xffff, 0x01000193);
    h2 = Math.imul(h2 ^ 0xffff, 0x5bd1e995);
  };
  feed(recipe);
  for (const path of Object.keys(files).sort()) {
    feed(path);
    feed(files[path]!);
  }
  const hex = (n: number) => (n >>> 0).toString(16).padStart(8, '0');
  return `pyodide-${pyodideVersion}-${hex(h1)}${hex(h2)}`;
}

/**
 * Our header, then Pyodide's snapshot: the file a store keeps, gzip'd (what ships;
 * a fifth of the size) or raw (quicker to start from, for a local cache).
 */
export async function encodeSnapshot(
  key: string,
  snapshot: Uint8Array,
  gzip = true,
): Promise<Uint8Array<ArrayBuffer>> {
  const keyBytes = new TextEncoder().encode(key);
  const headerLength = Math.ceil((MAGIC.length + 4 + keyBytes.length) / ALIGN) * ALIGN;
  const header = new Uint8Array(headerLength);
  header.set(new TextEncoder().encode(MAGIC));
  new DataView(header.buffer).setUint32(MAGIC.length, keyBytes.length, true);
  header.set(keyBytes, MAGIC.length + 4);
  if (!gzip) {
    const file = new Uint8Array(headerLength + snapshot.length);
    file.set(header);
    file.set(snapshot, headerLength);
    return file;
  }
  const gzipped = new Blob([header, snapshot as Uint8Array<ArrayBuffer>])
    .stream()
    .pipeThrough(new CompressionStream('gzip'));
  return new Uint8Array(await new Response(gzipped).arrayBuffer());
}

export type DecodedSnapshot =
  { ok: true; snapshot: Uint8Array } | { ok: false; reason: string; stale?: boolean };

/**
 * Pyodide's snapshot out of a kept file (gzip'd or raw), if it was made for `key`;
 * else why not (not gzip, not ours, or made for another key: stale).
 */
export async function decodeSnapshot(file: SnapshotFile, key: string): Promise<DecodedSnapshot> {
  let bytes: Uint8Array;
  if (file instanceof Uint8Array && startsWithMagic(file)) {
    bytes = file;
  } else {
    const stream = file instanceof Uint8Array ? new Blob([file]).stream() : file;
    try {
      bytes = new Uint8Array(
        await new Response(stream.pipeThrough(new DecompressionStream('gzip'))).arrayBuffer(),
      );
    } catch (error) {
      return { ok: false, reason: `not a gzip file (${(error as Error).message})` };
    }
    if (!startsWithMagic(bytes)) {
      return { ok: false, reason: 'not a RemoteMedia Python snapshot (no header)' };
    }
  }
  const keyLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(MAGIC.length, true);
  const headerLength = Math.ceil((MAGIC.length + 4 + keyLength) / ALIGN) * ALIGN;
  if (headerLength > bytes.length) return { ok: false, reason: 'its header is cut short' };
  const madeFor = new TextDecoder().decode(
    bytes.subarray(MAGIC.length + 4, MAGIC.length + 4 + keyLength),
  );
  if (madeFor !== key) {
    return { ok: false, stale: true, reason: `stale: made for ${madeFor}, this runtime is ${key}` };
  }
  const snapshot = bytes.subarray(headerLength);
  // Pyodide reads the heap as 32-bit words: a view at an odd offset is copied.
  return { ok: true, snapshot: snapshot.byteOffset % 4 === 0 ? snapshot : snapshot.slice() };
}

function startsWithMagic(bytes: Uint8Array): boolean {
  return (
    bytes.length >= MAGIC.length + 4 &&
    new TextDecoder().decode(bytes.subarray(0, MAGIC.length)) === MAGIC
  );
}
