/**
 * Memory snapshots of the Python runtime. A snapshot is Pyodide's whole heap taken
 * right after the remotemedia package and the runtime bridge were imported; starting
 * from one is a copy into memory instead of Python's boot and some 200 imports.
 *
 * A kept file is our header (a magic, the key it was made for, the heap's length
 * and where its non-zero pages are) and then those pages only: half of Pyodide's
 * 31 MB heap is zero pages, so a raw file is about 15 MB and there is half as much
 * to decompress, read or copy. The file shipped is gzip'd (about 6 MB); a local
 * cache keeps it raw, which starts quicker. The key names the Pyodide version, the
 * Python files installed and what was imported, so a snapshot of other sources or
 * another Pyodide is refused, never loaded. Pyodide checks its own build id
 * besides. Compression uses the platform's streams (CompressionStream /
 * DecompressionStream), the same in browsers and Node; a store may hand over a file
 * it decompressed itself, quicker (node:zlib, or a browser worker off this thread).
 */

/** Where the shipped snapshot sits in the runtime's assets folder (see web/runtime/assets.ts). */
// No `.gz` in the name: servers that see one add Content-Encoding: gzip, and the
// cache then keeps it decompressed. Its content is gzip all the same.
export const SNAPSHOT_ASSET = 'python/remotemedia.snapshot';

/** A kept file, whole or as it streams in (a fetch's body), gzip'd or raw. */
export type SnapshotFile = Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array<ArrayBuffer>>;

/** Where snapshots are kept: a shipped file, IndexedDB, a folder on disk. */
export interface SnapshotStore {
  /** Names the store in log lines ("shipped", "IndexedDB", a path). */
  readonly name: string;
  /**
   * The kept file (as encodeSnapshot made it) for `key`, or undefined when there is
   * none. Resolves as soon as the store knows it has one: the file may be a stream
   * still being read, which decodeSnapshot reads while Pyodide loads.
   */
  get(key: string): Promise<SnapshotFile | undefined>;
  /** Keeps a file made for `key`; absent where nothing can be written (a shipped file). */
  put?(key: string, file: Uint8Array): Promise<void>;
  /**
   * Whether `put` gets the file gzip'd (default) or raw: 2.5x the room (15 MB), but
   * a start skips decompressing it. For caches on the user's own disk.
   */
  readonly raw?: boolean;
}

/** Ours, format 2 (zero pages left out). */
const MAGIC = 'RMPYSNP2';
/** Format 1 (the whole heap): kept by earlier builds, refused with its own reason. */
const OLD_MAGIC = 'RMPYSNAP';
/** The page size zero runs are found at: Pyodide's heap grows in 64 KiB pages, 4 KiB is finer. */
const PAGE = 4096;
const ALIGN = 16;
const GZIP = [0x1f, 0x8b];

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

/** Runs of non-zero pages, as [first byte, end byte) pairs. */
function nonZeroRanges(heap: Uint8Array): [number, number][] {
  // Compared 32 bits at a time: 31 MB in a few ms.
  const words =
    heap.byteOffset % 4 === 0
      ? new Uint32Array(heap.buffer, heap.byteOffset, heap.length >>> 2)
      : new Uint32Array(heap.slice(0, heap.length & ~3).buffer);
  const ranges: [number, number][] = [];
  for (let start = 0; start < heap.length; start += PAGE) {
    const end = Math.min(start + PAGE, heap.length);
    let zero = true;
    for (let w = start >>> 2; w < end >>> 2 && zero; w++) zero = words[w] === 0;
    for (let b = end & ~3; b < end && zero; b++) zero = heap[b] === 0;
    if (zero) continue;
    const last = ranges.at(-1);
    if (last && last[1] === start) last[1] = end;
    else ranges.push([start, end]);
  }
  return ranges;
}

/**
 * Our header, then the heap's non-zero pages: the file a store keeps, gzip'd (what
 * ships; about 6 MB) or raw (quicker to start from, for a local cache).
 */
export async function encodeSnapshot(
  key: string,
  snapshot: Uint8Array,
  gzip = true,
): Promise<Uint8Array<ArrayBuffer>> {
  const keyBytes = new TextEncoder().encode(key);
  const ranges = nonZeroRanges(snapshot);
  const headerLength = align(MAGIC.length + 4 + keyBytes.length + 8 + 8 * ranges.length);
  const header = new Uint8Array(headerLength);
  const view = new DataView(header.buffer);
  header.set(new TextEncoder().encode(MAGIC));
  view.setUint32(MAGIC.length, keyBytes.length, true);
  header.set(keyBytes, MAGIC.length + 4);
  let at = MAGIC.length + 4 + keyBytes.length;
  view.setUint32(at, snapshot.length, true);
  view.setUint32(at + 4, ranges.length, true);
  at += 8;
  for (const [start, end] of ranges) {
    view.setUint32(at, start, true);
    view.setUint32(at + 4, end - start, true);
    at += 8;
  }
  const pages = ranges.map(([start, end]) => snapshot.subarray(start, end));
  if (!gzip) {
    const file = new Uint8Array(headerLength + pages.reduce((n, p) => n + p.length, 0));
    file.set(header);
    let offset = headerLength;
    for (const p of pages) {
      file.set(p, offset);
      offset += p.length;
    }
    return file;
  }
  const gzipped = new Blob([header, ...(pages as Uint8Array<ArrayBuffer>[])])
    .stream()
    .pipeThrough(new CompressionStream('gzip'));
  return new Uint8Array(await new Response(gzipped).arrayBuffer());
}

export type DecodedSnapshot =
  { ok: true; snapshot: Uint8Array } | { ok: false; reason: string; stale?: boolean };

/**
 * Pyodide's heap out of a kept file (gzip'd or raw, whole or streaming in), if it
 * was made for `key`; else why not (not gzip, not ours, cut short, or made for
 * another key: stale). A stale file is told from its first bytes: the rest is not
 * read or decompressed.
 */
export async function decodeSnapshot(file: SnapshotFile, key: string): Promise<DecodedSnapshot> {
  const reader = file instanceof Uint8Array ? undefined : file.getReader();
  let head: Uint8Array;
  try {
    head = reader ? ((await reader.read()).value ?? new Uint8Array(0)) : (file as Uint8Array);
  } catch (error) {
    return { ok: false, reason: `cannot read it (${(error as Error).message})` };
  }
  let chunks: AsyncIterator<Uint8Array>;
  const gzipped = head[0] === GZIP[0] && head[1] === GZIP[1];
  if (gzipped) {
    let stream: ReadableStream<Uint8Array<ArrayBuffer>>;
    if (!reader) stream = new Blob([head as Uint8Array<ArrayBuffer>]).stream();
    else {
      // The whole stream again: the chunk read, then the rest.
      let sentHead = false;
      stream = new ReadableStream({
        async pull(controller) {
          const next = sentHead ? await reader.read() : { done: false, value: head };
          sentHead = true;
          if (next.done) controller.close();
          else controller.enqueue(next.value as Uint8Array<ArrayBuffer>);
        },
        cancel: (reason) => reader.cancel(reason),
      });
    }
    chunks = readerIterator(stream.pipeThrough(new DecompressionStream('gzip')).getReader());
  } else if (
    head.length >= 2 &&
    ((reader && head.length < MAGIC.length) ||
      startsWith(head, MAGIC) ||
      startsWith(head, OLD_MAGIC))
  ) {
    chunks = (async function* () {
      yield head;
      if (reader) yield* readerIterator(reader);
    })();
  } else {
    void reader?.cancel();
    const start = [...head.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    return {
      ok: false,
      reason: `not a RemoteMedia Python snapshot (neither gzip'd nor ours: ${head.length < 2 ? 'it is empty' : `it starts with ${start}`})`,
    };
  }
  const assembler = new HeapAssembler(key);
  try {
    for (;;) {
      const next = await chunks.next();
      if (next.done) break;
      const refused = assembler.push(next.value);
      if (refused) {
        await chunks.return?.();
        return refused;
      }
    }
  } catch (error) {
    const why = (error as Error).message;
    return {
      ok: false,
      reason: gzipped ? `a broken gzip file (${why})` : `cannot read it (${why})`,
    };
  }
  return assembler.finish();
}

async function* readerIterator<T>(reader: ReadableStreamDefaultReader<T>): AsyncGenerator<T> {
  try {
    for (;;) {
      const next = await reader.read();
      if (next.done) return;
      yield next.value;
    }
  } finally {
    // Stopped early (a stale header): the rest is not read.
    reader.cancel().catch(() => {});
  }
}

/**
 * Builds the heap from a raw file as it comes in, chunk by chunk: the header first,
 * then each non-zero page straight into its place (the zero pages are the new
 * buffer's own zeros). No copy of the whole file is made.
 */
class HeapAssembler {
  private pending: Uint8Array[] = [];
  private pendingLength = 0;
  private heap: Uint8Array | undefined;
  private ranges: [number, number][] = [];
  private range = 0;
  private at = 0;

  constructor(private readonly key: string) {}

  /** Takes the next chunk; a reason when the header says this file is not one to use. */
  push(chunk: Uint8Array): DecodedSnapshot | undefined {
    if (!this.heap) {
      this.pending.push(chunk);
      this.pendingLength += chunk.length;
      const bytes = this.pending.length === 1 ? chunk : concat(this.pending, this.pendingLength);
      this.pending = [bytes];
      const header = this.readHeader(bytes);
      if (header === undefined) return undefined; // not all of it yet
      if ('ok' in header) return header;
      this.heap = new Uint8Array(header.heapLength);
      this.ranges = header.ranges;
      this.at = this.ranges[0]?.[0] ?? 0;
      this.pending = [];
      chunk = bytes.subarray(header.length);
    }
    let offset = 0;
    while (offset < chunk.length) {
      const range = this.ranges[this.range];
      if (!range) return { ok: false, reason: 'it holds more bytes than its header says' };
      const n = Math.min(range[1] - this.at, chunk.length - offset);
      this.heap.set(chunk.subarray(offset, offset + n), this.at);
      this.at += n;
      offset += n;
      if (this.at === range[1]) this.at = this.ranges[++this.range]?.[0] ?? this.at;
    }
    return undefined;
  }

  finish(): DecodedSnapshot {
    if (!this.heap) {
      const bytes = this.pending[0] ?? new Uint8Array(0);
      return bytes.length >= MAGIC.length &&
        !startsWith(bytes, MAGIC) &&
        !startsWith(bytes, OLD_MAGIC)
        ? { ok: false, reason: 'not a RemoteMedia Python snapshot (no header)' }
        : { ok: false, reason: 'its header is cut short' };
    }
    if (this.range < this.ranges.length) {
      return { ok: false, reason: 'it is cut short (fewer pages than its header says)' };
    }
    return { ok: true, snapshot: this.heap };
  }

  /** The header, if `bytes` holds all of it; a reason when it is not ours or stale. */
  private readHeader(
    bytes: Uint8Array,
  ):
    | { length: number; heapLength: number; ranges: [number, number][] }
    | DecodedSnapshot
    | undefined {
    if (bytes.length < MAGIC.length + 4) return undefined;
    if (startsWith(bytes, OLD_MAGIC)) {
      return { ok: false, stale: true, reason: 'stale: an older snapshot format' };
    }
    if (!startsWith(bytes, MAGIC)) {
      return { ok: false, reason: 'not a RemoteMedia Python snapshot (no header)' };
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    const keyLength = view.getUint32(MAGIC.length, true);
    let at = MAGIC.length + 4 + keyLength;
    if (keyLength > 1024) return { ok: false, reason: 'its header is broken (a key that long)' };
    if (bytes.length < at + 8) return undefined;
    const madeFor = new TextDecoder().decode(bytes.subarray(MAGIC.length + 4, at));
    if (madeFor !== this.key) {
      return {
        ok: false,
        stale: true,
        reason: `stale: made for ${madeFor}, this runtime is ${this.key}`,
      };
    }
    const heapLength = view.getUint32(at, true);
    const count = view.getUint32(at + 4, true);
    at += 8;
    const length = align(at + 8 * count);
    if (bytes.length < length) return undefined;
    const ranges: [number, number][] = [];
    let end = 0;
    for (let i = 0; i < count; i++, at += 8) {
      const start = view.getUint32(at, true);
      const range: [number, number] = [start, start + view.getUint32(at + 4, true)];
      if (range[0] < end || range[1] <= range[0] || range[1] > heapLength) {
        return { ok: false, reason: 'its header is broken (pages out of order or past the heap)' };
      }
      ranges.push(range);
      end = range[1];
    }
    return { length, heapLength, ranges };
  }
}

function align(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}

function concat(parts: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

function startsWith(bytes: Uint8Array, magic: string): boolean {
  if (bytes.length < magic.length) return false;
  for (let i = 0; i < magic.length; i++) if (bytes[i] !== magic.charCodeAt(i)) return false;
  return true;
}
