/**
 * The gateway protocol, version 1: one WebSocket per remote session.
 *
 * Text messages are JSON control messages (GatewayMessage). Binary messages carry
 * data: a 2-byte little-endian port header, then (part of) a frame-codec frame. The
 * port is the index of the session's input (client to gateway) or output (gateway
 * to client); bit 15 set means "more parts of this frame follow", so a frame larger
 * than the peer's max message size travels in parts, reassembled in order.
 *
 * Flow: the client sends `open` (version, token, the island to run); the gateway
 * answers `opened` or `error` and closes. Then data flows both ways; the gateway
 * grants `credit` as it takes inputs (a client has at most `window` frames in
 * flight per port), `end` closes a port in either direction, and the gateway ends
 * with `done` or `error`. Anything malformed is a typed error and a close, never a
 * crash.
 */
import { RemoteMediaError, type SerializedError } from './errors.ts';
import type { Manifest } from './manifest.ts';

export const GATEWAY_PROTOCOL_VERSION = 1;
/** Frames a client may send per port before it waits for credit. */
export const GATEWAY_WINDOW = 64;
const MORE = 0x8000;
const PORT_MASK = 0x7fff;

/** The part of a pipeline a gateway runs: like a runtime island, without endpoints. */
export interface RemoteIslandSpec {
  manifest: Manifest;
  /** For each input port, the source nodes it feeds. */
  inputs: { sources: string[] }[];
  /** For each output port, the sink node that writes it. */
  outputs: { sink: string }[];
}

export type GatewayMessage =
  | {
      type: 'open';
      version: number;
      token?: string;
      island: RemoteIslandSpec;
      maxMessageSize?: number;
    }
  | { type: 'opened'; sessionId: string; maxMessageSize: number }
  | { type: 'credit'; port: number; frames: number }
  | { type: 'end'; port: number }
  | { type: 'close' }
  | { type: 'done' }
  | { type: 'error'; error: SerializedError };

export function parseGatewayMessage(text: string): GatewayMessage {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    throw protocolError('a control message is not JSON');
  }
  const type = (message as { type?: unknown })?.type;
  const valid = ['open', 'opened', 'credit', 'end', 'close', 'done', 'error'];
  if (typeof type !== 'string' || !valid.includes(type)) {
    throw protocolError(
      `unknown control message type ${JSON.stringify(type)}; valid: ${valid.join(', ')}`,
    );
  }
  const port = (message as { port?: unknown }).port;
  if ((type === 'credit' || type === 'end') && !(Number.isInteger(port) && (port as number) >= 0)) {
    throw protocolError(`'${type}' needs a port number`);
  }
  return message as GatewayMessage;
}

export function protocolError(message: string): RemoteMediaError {
  return new RemoteMediaError('frame_codec', `Gateway protocol: ${message}`);
}

/** Splits one frame into the binary messages that carry it to `port`. */
export function packFrame(port: number, frame: Uint8Array, maxMessageSize: number): Uint8Array[] {
  if (port > PORT_MASK) throw protocolError(`port ${port} is over ${PORT_MASK}`);
  const room = maxMessageSize - 2;
  if (room < 1) throw protocolError(`max message size ${maxMessageSize} is too small`);
  const parts: Uint8Array[] = [];
  for (let at = 0; at === 0 || at < frame.length; at += room) {
    const end = Math.min(frame.length, at + room);
    const part = new Uint8Array(2 + end - at);
    const more = end < frame.length;
    part[0] = port & 0xff;
    part[1] = (port >> 8) | (more ? MORE >> 8 : 0);
    part.set(frame.subarray(at, end), 2);
    parts.push(part);
  }
  return parts;
}

/** Reassembles frames from binary messages, per port. */
export class FrameAssembler {
  private readonly pending = new Map<number, Uint8Array[]>();
  private pendingBytes = 0;

  /** @param maxFrameBytes a frame larger than this is refused (a peer must not exhaust memory). */
  constructor(private readonly maxFrameBytes: number) {}

  /** The port and the whole frame when `message` completes one, else undefined. */
  push(message: Uint8Array): { port: number; frame: Uint8Array } | undefined {
    if (message.length < 3)
      throw protocolError(`a ${message.length}-byte data message is too short`);
    const header = message[0]! | (message[1]! << 8);
    const port = header & PORT_MASK;
    const parts = this.pending.get(port) ?? [];
    parts.push(message.subarray(2));
    this.pendingBytes += message.length - 2;
    if (this.pendingBytes > this.maxFrameBytes) {
      throw protocolError(`a frame of over ${this.maxFrameBytes} bytes is refused`);
    }
    if (header & MORE) {
      this.pending.set(port, parts);
      return undefined;
    }
    this.pending.delete(port);
    let size = 0;
    for (const part of parts) size += part.length;
    this.pendingBytes = 0;
    for (const other of this.pending.values())
      for (const part of other) this.pendingBytes += part.length;
    if (parts.length === 1) return { port, frame: parts[0]! };
    const frame = new Uint8Array(size);
    let at = 0;
    for (const part of parts) {
      frame.set(part, at);
      at += part.length;
    }
    return { port, frame };
  }
}
