/**
 * The gateway's reading side of the node-runner pipe (protocol in
 * python-packages/remotemedia/node_runner.py): responses of `u8 status, u32 count,
 * then count x (u32 length, bytes)`; a request's answer is any number of `more`
 * responses (a generator node's items, as made) and one final `ok` or `error`. It trusts nothing the worker writes: an unknown
 * status, a count or length over the limits, an error report that is not the JSON
 * it should be — each is a PipeProtocolError, after which the worker must be killed
 * (its stream can no longer be framed). Bytes are kept in a list of chunks and
 * copied once into the item they belong to: linear in what arrives, and never more
 * held than the item being read (under its limit) plus one chunk.
 */

// The runner protocol's numbers, the gateway's one copy of them (node_runner.py holds
// Python's; tests/node/python-protocol-constants.test.ts checks that they agree).
export const OP_CREATE = 1;
export const OP_PROCESS = 2;
export const OP_FLUSH = 3;
export const OP_CLEANUP = 4;
/** Stops every call sent before it that has not finished; answered after them. */
export const OP_CANCEL = 5;
export const STATUS_OK = 0;
export const STATUS_ERROR = 1;
/** Items of a call so far; its answer goes on. */
export const STATUS_MORE = 2;

export interface PipeLimits {
  /** Largest item (one output frame, or an error report). */
  maxItemBytes: number;
  /** Largest response, all its items together. */
  maxResponseBytes: number;
  /** Most items in one response. */
  maxItems: number;
}

/** The worker broke the pipe protocol; `message` says how, for `protocol violation (…)`. */
export class PipeProtocolError extends Error {
  override name = 'PipeProtocolError';
}

export interface PythonErrorReport {
  type: string;
  message: string;
  traceback: string;
}

export type RunnerResponse =
  | { status: typeof STATUS_OK; items: Uint8Array[] }
  | { status: typeof STATUS_MORE; items: Uint8Array[] }
  | { status: typeof STATUS_ERROR; report: PythonErrorReport };

/** Incremental response parser. One per worker; `push` is called from its data handler. */
export class ResponseReader {
  /** Chunks received; those before `head` are used up (dropped in batches: no shift per chunk). */
  private chunks: Uint8Array[] = [];
  private head = 0;
  /** Read position in chunks[head]. */
  private offset = 0;
  private buffered = 0;
  // The response being read.
  private status = -1;
  private count = 0;
  private items: Uint8Array[] = [];
  private itemLength = -1;
  private responseBytes = 0;

  constructor(private readonly limits: PipeLimits) {}

  /** Bytes received and not yet parsed into an item (for tests and limits). */
  get pendingBytes(): number {
    return this.buffered;
  }

  /** Takes a chunk; returns the responses it completes. Throws PipeProtocolError. */
  push(chunk: Uint8Array): RunnerResponse[] {
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const done: RunnerResponse[] = [];
    for (;;) {
      if (this.status < 0) {
        if (this.buffered < 5) break;
        const head = this.take(5);
        const status = head[0]!;
        const count = new DataView(head.buffer, head.byteOffset, 5).getUint32(1, true);
        if (status !== STATUS_OK && status !== STATUS_ERROR && status !== STATUS_MORE) {
          throw new PipeProtocolError(`unknown response status ${status}`);
        }
        if (status === STATUS_ERROR && count !== 1) {
          throw new PipeProtocolError(`an error response with ${count} items (must be 1)`);
        }
        if (count > this.limits.maxItems) {
          throw new PipeProtocolError(
            `${count} items in one response (at most ${this.limits.maxItems})`,
          );
        }
        this.status = status;
        this.count = count;
        this.items = [];
        this.responseBytes = 0;
      }
      while (this.items.length < this.count) {
        if (this.itemLength < 0) {
          if (this.buffered < 4) return done;
          const head = this.take(4);
          const length = new DataView(head.buffer, head.byteOffset, 4).getUint32(0, true);
          if (length > this.limits.maxItemBytes) {
            throw new PipeProtocolError(
              `an item of ${length} bytes (at most ${this.limits.maxItemBytes})`,
            );
          }
          if ((this.responseBytes += length) > this.limits.maxResponseBytes) {
            throw new PipeProtocolError(`a response of over ${this.limits.maxResponseBytes} bytes`);
          }
          this.itemLength = length;
        }
        if (this.buffered < this.itemLength) return done;
        this.items.push(this.take(this.itemLength));
        this.itemLength = -1;
      }
      done.push(this.complete());
    }
    return done;
  }

  private complete(): RunnerResponse {
    const { status, items } = this;
    this.status = -1;
    this.items = [];
    if (status === STATUS_OK) return { status: STATUS_OK, items };
    if (status === STATUS_MORE) return { status: STATUS_MORE, items };
    return { status: STATUS_ERROR, report: parseReport(items[0]!) };
  }

  /** The next n buffered bytes, as one array (copied only when they span chunks). */
  private take(n: number): Uint8Array {
    this.buffered -= n;
    const first = this.chunks[this.head];
    if (first && first.length - this.offset >= n) {
      const out = first.subarray(this.offset, this.offset + n);
      this.offset += n;
      if (this.offset === first.length) this.advance();
      // A small view of a large chunk would keep the chunk alive: copy it out.
      return out.length * 2 < first.length ? out.slice() : out;
    }
    const out = new Uint8Array(n);
    let at = 0;
    while (at < n) {
      const chunk = this.chunks[this.head]!;
      const piece = Math.min(n - at, chunk.length - this.offset);
      out.set(chunk.subarray(this.offset, this.offset + piece), at);
      at += piece;
      this.offset += piece;
      if (this.offset === chunk.length) this.advance();
    }
    return out;
  }

  /** The chunk at `head` is used up. */
  private advance(): void {
    this.offset = 0;
    if (++this.head === this.chunks.length) {
      this.chunks = [];
      this.head = 0;
    } else if (this.head >= 1024) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }
}

function parseReport(payload: Uint8Array): PythonErrorReport {
  let report: unknown;
  try {
    report = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch {
    throw new PipeProtocolError('an error report that is not UTF-8 JSON');
  }
  const { type, message, traceback } = (report ?? {}) as Record<string, unknown>;
  if (typeof type !== 'string' || typeof message !== 'string' || typeof traceback !== 'string') {
    throw new PipeProtocolError('an error report without string type, message and traceback');
  }
  return { type, message, traceback };
}
