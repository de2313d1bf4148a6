/**
 * Channels: how RuntimeData crosses from one island to another. Two kinds carry the
 * same frame-codec bytes: a FrameRing on a SharedArrayBuffer (when the page is
 * cross-origin isolated) and a MessagePort with credit-based flow control (when it
 * is not). Both are bounded, keep order, end with end(), and can be cancelled from
 * either side so that nothing waits on a side that is gone.
 */
import { RemoteMediaError, type RuntimeData } from '../../core/internal.ts';
import type { OverrunPolicy } from '../ring/frame-ring.ts';
import { AudioRingChannelReader, type AudioRingEndpoint } from './audio-ring-channel.ts';
import { createPortChannel, PortChannelReader, PortChannelWriter } from './port-channel.ts';
import { createRingChannel, RingChannelReader, RingChannelWriter } from './ring-channel.ts';

export type ChannelMode = 'rings' | 'messages';

/** One end of a channel, as sent to the thread that will use it. */
export type ChannelEndpoint =
  | { kind: 'ring'; buffer: SharedArrayBuffer; policy: OverrunPolicy }
  | { kind: 'port'; port: MessagePort; window: number }
  | AudioRingEndpoint;

export interface ChannelWriter {
  /** Resolves (or returns undefined at once) when the item is in the channel. */
  write(data: RuntimeData): Promise<void> | undefined;
  /** End of stream: the reader gets every item, then undefined. */
  end(): void;
  /** Ends abnormally: both sides' pending and later calls fail. */
  cancel(): void;
}

export interface ChannelReader {
  /** The next item, or undefined at the end of the stream. */
  read(): Promise<RuntimeData | undefined>;
  cancel(): void;
}

export interface ChannelOptions {
  /** Ring size in bytes (rings). Default 1 MiB. */
  ringBytes?: number;
  /** What a full ring does (rings). Default "block": the producer waits. */
  overrun?: OverrunPolicy;
  /** Frames in flight before the writer waits (messages). Default 64. */
  window?: number;
}

export function createChannel(
  mode: ChannelMode,
  options: ChannelOptions = {},
): { writer: ChannelEndpoint; reader: ChannelEndpoint } {
  return mode === 'rings'
    ? createRingChannel(options.ringBytes ?? 1 << 20, options.overrun ?? 'block')
    : createPortChannel(options.window ?? 64);
}

export function openWriter(endpoint: ChannelEndpoint): ChannelWriter {
  switch (endpoint.kind) {
    case 'ring':
      return new RingChannelWriter(endpoint.buffer, endpoint.policy);
    case 'port':
      return new PortChannelWriter(endpoint.port, endpoint.window);
    case 'audio-ring':
      throw new RemoteMediaError('usage', 'an audio ring is written by its AudioWorklet only');
  }
}

export function openReader(endpoint: ChannelEndpoint): ChannelReader {
  switch (endpoint.kind) {
    case 'ring':
      return new RingChannelReader(endpoint.buffer, endpoint.policy);
    case 'port':
      return new PortChannelReader(endpoint.port, endpoint.window);
    case 'audio-ring':
      return new AudioRingChannelReader(endpoint);
  }
}

/** What postMessage must transfer (not clone) to send these endpoints. */
export function transferablesOf(endpoints: readonly ChannelEndpoint[]): Transferable[] {
  return endpoints.flatMap((e) => (e.kind === 'port' ? [e.port] : []));
}

/** The next expected sequence number; a gap or repeat is a bug, never passed on. */
export function checkSequence(received: number, expected: number): number {
  if (received !== expected) {
    throw new RemoteMediaError(
      'frame_codec',
      `channel frame ${received} arrived where ${expected} was expected: frames were lost or repeated`,
    );
  }
  return nextSequence(expected);
}

/** Sequence numbers are u32 in the frame codec and wrap around. */
export function nextSequence(sequence: number): number {
  return (sequence + 1) >>> 0;
}
