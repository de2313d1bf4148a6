/**
 * Channels: how RuntimeData crosses from one island to another. Two kinds carry the
 * same frame-codec bytes: a FrameRing on a SharedArrayBuffer (when the page is
 * cross-origin isolated) and a MessagePort with credit-based flow control (when it
 * is not). Both are bounded, keep order, end with end(), and can be cancelled from
 * either side so that nothing waits on a side that is gone.
 *
 * Threads: one thread writes a channel and one other thread reads it (the page or a
 * worker; never the AudioWorklet, which uses an AudioRing directly). No method
 * blocks its thread: waiting is by promise. What each method allocates is said on
 * the implementations (ring-channel.ts, port-channel.ts, audio-ring-channel.ts).
 */
import { RemoteMediaError, type RuntimeData } from '../../core/internal.ts';
import type { OverrunPolicy } from '../ring/frame-ring.ts';
import { AudioRingChannelReader, type AudioRingEndpoint } from './audio-ring-channel.ts';
import { createPortChannel, PortChannelReader, PortChannelWriter } from './port-channel.ts';
import { createRingChannel, RingChannelReader, RingChannelWriter } from './ring-channel.ts';

export type ChannelMode = 'rings' | 'messages';

/** One end of a channel, as sent to the thread that will use it. */
export type ChannelEndpoint =
  | {
      kind: 'ring';
      buffer: SharedArrayBuffer;
      policy: OverrunPolicy;
      /** The reading thread's doorbell (ring/doorbell.ts, channel/wake-loop.ts), if it has one. */
      doorbell?: SharedArrayBuffer;
    }
  | { kind: 'port'; port: MessagePort; window: number }
  | AudioRingEndpoint;

export interface ChannelWriter {
  /**
   * Writer thread. Resolves (or returns undefined at once) when the item is in the
   * channel; the caller may reuse the item's arrays once write returns. A caller
   * that got a promise waits for it before writing again. Never blocks.
   */
  write(data: RuntimeData): Promise<void> | undefined;
  /** Writer thread. End of stream: the reader gets every item, then undefined. Never blocks. */
  end(): void;
  /** Writer thread. Ends abnormally: both sides' pending and later calls fail. Never blocks. */
  cancel(): void;
}

/** What ChannelReader.tryRead returns when no item is there yet (undefined is the end). */
export const NOT_YET: unique symbol = Symbol('no item yet');

export interface ChannelReader {
  /** Reader thread, one read at a time. The next item, or undefined at the end of the stream. */
  read(): Promise<RuntimeData | undefined>;
  /**
   * Reader thread, optional (ring channels), with no read pending: the next item
   * if it is there now, undefined at the end, NOT_YET if nothing is there yet.
   * Never blocks, and makes no promise: a reader draining a backlog takes item
   * after item in one go (island.ts's pump).
   */
  tryRead?(): RuntimeData | undefined | typeof NOT_YET;
  /** Reader thread. Ends abnormally: the writer's pending and later writes fail. Never blocks. */
  cancel(): void;
  /**
   * Reader thread, optional (ring channels): a caller about to wait for the next
   * item lets the reader spin a bounded few µs for it first. True if a pending
   * read got its item. See RingChannelReader.poll for the bound and the backoff.
   */
  poll?(): boolean;
}

export interface ChannelOptions {
  /** Ring size in bytes (rings). Default 1 MiB. */
  ringBytes?: number;
  /** What a full ring does (rings). Default "block": the producer waits. */
  overrun?: OverrunPolicy;
  /** Frames in flight before the writer waits (messages). Default 64. */
  window?: number;
}

/** Any thread, at setup: allocates the ring or the MessageChannel. */
export function createChannel(
  mode: ChannelMode,
  options: ChannelOptions = {},
): { writer: ChannelEndpoint; reader: ChannelEndpoint } {
  return mode === 'rings'
    ? createRingChannel(options.ringBytes ?? 1 << 20, options.overrun ?? 'block')
    : createPortChannel(options.window ?? 64);
}

/** The thread that will write, once: allocates the writer (and its views of the ring). */
export function openWriter(endpoint: ChannelEndpoint): ChannelWriter {
  switch (endpoint.kind) {
    case 'ring':
      return new RingChannelWriter(endpoint.buffer, endpoint.policy, endpoint.doorbell);
    case 'port':
      return new PortChannelWriter(endpoint.port, endpoint.window);
    case 'audio-ring':
      throw new RemoteMediaError('usage', 'an audio ring is written by its AudioWorklet only');
  }
}

export interface ReaderOptions {
  /**
   * Where a ring reader decodes payloads (audio samples, tensor data, bytes,
   * pixels) to. "owned" (default): an ArrayBuffer of their own each, as the
   * embedder must get them. "slab": slices of web/core/buffer-slab.ts's shared
   * slabs, for a reader whose items stay inside the engine — an island's inputs,
   * which go to nodes whose outputs leave through channels (encoded) or
   * ownedBuffers (copied) — one ArrayBuffer per dozen 20 ms frames instead of one
   * per frame. Other channel kinds decode as they always do.
   */
  payloads?: 'owned' | 'slab';
}

/** The thread that will read, once: allocates the reader. */
export function openReader(endpoint: ChannelEndpoint, options?: ReaderOptions): ChannelReader {
  switch (endpoint.kind) {
    case 'ring':
      return new RingChannelReader(endpoint.buffer, endpoint.policy, endpoint.doorbell, options);
    case 'port':
      return new PortChannelReader(endpoint.port, endpoint.window);
    case 'audio-ring':
      return new AudioRingChannelReader(endpoint);
  }
}

/** Any thread. What postMessage must transfer (not clone) to send these endpoints; allocates the list. */
export function transferablesOf(endpoints: readonly ChannelEndpoint[]): Transferable[] {
  return endpoints.flatMap((e) => (e.kind === 'port' ? [e.port] : []));
}

/** Reader thread. The next expected sequence number; a gap or repeat is a bug, never passed on. Allocates nothing unless it throws. */
export function checkSequence(received: number, expected: number): number {
  if (received !== expected) {
    throw new RemoteMediaError(
      'frame_codec',
      `channel frame ${received} arrived where ${expected} was expected: frames were lost or repeated`,
    );
  }
  return nextSequence(expected);
}

/** Any thread. Sequence numbers are u32 in the frame codec and wrap around. Allocates nothing. */
export function nextSequence(sequence: number): number {
  return (sequence + 1) >>> 0;
}
