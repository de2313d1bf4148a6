/**
 * A channel over a MessagePort, for pages without SharedArrayBuffer. Frames travel
 * as frame-codec bytes whose buffers are transferred, not copied. Flow control is by
 * credit: the writer has `window` frames in flight at most and waits for the reader
 * to grant more as it consumes, so a fast producer cannot flood memory.
 *
 * Threads: each end lives on the thread its port was sent to (the page or a worker)
 * and is used there only: the port's messages arrive on that thread's event loop.
 * Nothing blocks.
 */
import {
  decodeFrame,
  encodeFrame,
  RemoteMediaError,
  type RuntimeData,
} from '../../core/internal.ts';
import {
  type ChannelEndpoint,
  type ChannelReader,
  type ChannelWriter,
  checkSequence,
  nextSequence,
} from './channel.ts';

type WriterMessage = { t: 'frame'; bytes: Uint8Array } | { t: 'end' } | { t: 'cancel' };
type ReaderMessage = { t: 'credit'; frames: number } | { t: 'cancel' };

function cancelledError(): RemoteMediaError {
  return new RemoteMediaError('aborted', 'the channel was cancelled: the other side ended early');
}

/** Any thread, at setup: allocates the MessageChannel. */
export function createPortChannel(window: number): {
  writer: ChannelEndpoint;
  reader: ChannelEndpoint;
} {
  if (!Number.isInteger(window) || window < 1) {
    throw new RemoteMediaError(
      'usage',
      `channel window must be a positive integer, found ${window}`,
    );
  }
  const { port1, port2 } = new MessageChannel();
  return {
    writer: { kind: 'port', port: port1, window },
    reader: { kind: 'port', port: port2, window },
  };
}

/** Made once on the thread that holds its port (openWriter); takes over the port's onmessage. */
export class PortChannelWriter implements ChannelWriter {
  private inFlight = 0;
  private sequence = 0;
  private cancelled = false;
  private ended = false;
  /** Writes waiting for credit, in order. */
  private readonly waiting: {
    bytes: Uint8Array;
    resolve: () => void;
    reject: (e: unknown) => void;
  }[] = [];

  constructor(
    private readonly port: MessagePort,
    private readonly window: number,
  ) {
    port.onmessage = (event: MessageEvent<ReaderMessage>) => {
      if (event.data.t === 'credit') {
        this.inFlight -= event.data.frames;
        this.wake();
      } else {
        this.cancelled = true;
        this.wake();
        port.close();
      }
    };
  }

  /**
   * Writer thread. Encodes the item now (allocates its frame, whose buffer is then
   * transferred) and posts it if there is credit; otherwise queues it and returns a
   * promise that resolves once it is posted. Never blocks.
   */
  write(data: RuntimeData): Promise<void> | undefined {
    if (this.cancelled) return Promise.reject(cancelledError());
    if (this.ended) {
      return Promise.reject(new RemoteMediaError('session_closed', 'write to an ended channel'));
    }
    // The frame is encoded now, so a caller may reuse its buffers once write returns.
    const bytes = encodeFrame({ sequence: this.sequence, data });
    this.sequence = nextSequence(this.sequence);
    if (this.inFlight < this.window && this.waiting.length === 0) {
      this.post(bytes);
      return undefined;
    }
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ bytes, resolve, reject });
    });
  }

  private post(bytes: Uint8Array): void {
    this.inFlight++;
    this.port.postMessage({ t: 'frame', bytes } satisfies WriterMessage, [bytes.buffer]);
  }

  /** Writer thread. End of stream, after every queued frame. Never blocks; posts one message. */
  end(): void {
    if (this.ended || this.cancelled) return;
    this.ended = true;
    // Frames still waiting for credit go first; wake() sends the end after them.
    if (this.waiting.length === 0) this.port.postMessage({ t: 'end' } satisfies WriterMessage);
  }

  /** Writer thread. Ends abnormally: queued writes and the reader fail. Never blocks. */
  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.port.postMessage({ t: 'cancel' } satisfies WriterMessage);
    this.wake();
    this.port.close();
  }

  private wake(): void {
    if (this.cancelled) {
      for (const waiting of this.waiting.splice(0)) waiting.reject(cancelledError());
      return;
    }
    // Send waiting frames, in order, as far as the credit goes.
    while (this.inFlight < this.window && this.waiting.length > 0) {
      const waiting = this.waiting.shift()!;
      this.post(waiting.bytes);
      waiting.resolve();
      if (this.ended && this.waiting.length === 0) {
        this.port.postMessage({ t: 'end' } satisfies WriterMessage);
      }
    }
  }
}

/** Made once on the thread that holds its port (openReader); takes over the port's onmessage. */
export class PortChannelReader implements ChannelReader {
  private readonly queue: (Uint8Array | null)[] = [];
  private cancelled = false;
  private consumed = 0;
  private sequence = 0;
  private waiting: { resolve: () => void } | undefined;

  constructor(
    private readonly port: MessagePort,
    private readonly window: number,
  ) {
    port.onmessage = (event: MessageEvent<WriterMessage>) => {
      const message = event.data;
      if (message.t === 'frame') this.queue.push(message.bytes);
      else if (message.t === 'end') this.queue.push(null);
      else {
        this.cancelled = true;
        port.close();
      }
      const waiting = this.waiting;
      this.waiting = undefined;
      waiting?.resolve();
    };
  }

  /**
   * Reader thread, one read at a time. The next item (decoded from the transferred
   * frame: allocates the item), or undefined at the end; grants credit every half
   * window. Never blocks.
   */
  async read(): Promise<RuntimeData | undefined> {
    while (this.queue.length === 0) {
      if (this.cancelled) throw cancelledError();
      await new Promise<void>((resolve) => {
        this.waiting = { resolve };
      });
    }
    if (this.cancelled) throw cancelledError();
    const bytes = this.queue.shift()!;
    if (bytes === null) {
      this.queue.unshift(null);
      return undefined;
    }
    // Grant credit in batches of half a window: fewer messages, and the writer
    // never stalls while the reader is keeping up.
    if (++this.consumed >= Math.max(1, this.window >> 1)) {
      this.port.postMessage({ t: 'credit', frames: this.consumed } satisfies ReaderMessage);
      this.consumed = 0;
    }
    const { sequence, data } = decodeFrame(bytes);
    this.sequence = checkSequence(sequence, this.sequence);
    return data;
  }

  /** Reader thread. Ends abnormally: the writer's waiting and later writes fail. Never blocks. */
  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.port.postMessage({ t: 'cancel' } satisfies ReaderMessage);
    this.port.close();
    this.waiting?.resolve();
  }
}
