/**
 * The gateway protocol, version 2: one WebSocket per remote session.
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
 *
 * Every frame and every `end`, `close`, `done` and `error` is numbered by its
 * sender, 1, 2, 3... in one sequence per direction (frames in their header's
 * sequence, controls in `seq`): a receiver drops what it already has and refuses a
 * gap. `metrics` (with an id) asks for the session's per-node metrics, answered
 * with the same id. A session opened with `resume: true` survives a dropped connection: each side
 * keeps what it sent until the other `ack`s it, and the client comes back with
 * `resume` (session id, the key it was given, the last number it received); the
 * gateway answers `resumed` (the last number it received, the inputs it took per
 * port) and both resend the rest. Past the gateway's idle timeout the session ends.
 */
import { RemoteMediaError, type SerializedError } from './errors.ts';
import type { Manifest } from './manifest.ts';
import type { NodeMetricsSnapshot } from './node-metrics.ts';

export const GATEWAY_PROTOCOL_VERSION = 2;
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
      /** Keep the session across dropped connections (the client reconnects). */
      resume?: boolean;
    }
  | { type: 'opened'; sessionId: string; maxMessageSize: number; resumeKey?: string }
  | {
      type: 'resume';
      version: number;
      token?: string;
      sessionId: string;
      resumeKey: string;
      /** The last number the client received from the gateway. */
      received: number;
      maxMessageSize?: number;
    }
  | {
      type: 'resumed';
      maxMessageSize: number;
      /** The last number the gateway received from the client. */
      received: number;
      /** Inputs taken so far per port: the client's credit starts from these. */
      taken: number[];
    }
  | { type: 'credit'; port: number; frames: number }
  /** The client asks for the session's per-node metrics; the gateway answers with `nodes`. */
  | { type: 'metrics'; id: number; nodes?: NodeMetricsSnapshot[] }
  /** Everything numbered up to `seq` arrived: the sender may forget it. */
  | { type: 'ack'; seq: number }
  | { type: 'end'; port: number; seq: number }
  | { type: 'close'; seq: number }
  | { type: 'done'; seq: number }
  | { type: 'error'; error: SerializedError; seq?: number };

/** The messages that take a number in their sender's sequence. */
export type SequencedMessage = Extract<
  GatewayMessage,
  { type: 'end' | 'close' | 'done' | 'error' }
>;

export function parseGatewayMessage(text: string): GatewayMessage {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    throw protocolError('a control message is not JSON');
  }
  const type = (message as { type?: unknown })?.type;
  const valid = [
    'open',
    'opened',
    'resume',
    'resumed',
    'credit',
    'metrics',
    'ack',
    'end',
    'close',
    'done',
    'error',
  ];
  if (typeof type !== 'string' || !valid.includes(type)) {
    throw protocolError(
      `unknown control message type ${JSON.stringify(type)}; valid: ${valid.join(', ')}`,
    );
  }
  const port = (message as { port?: unknown }).port;
  if ((type === 'credit' || type === 'end') && !(Number.isInteger(port) && (port as number) >= 0)) {
    throw protocolError(`'${type}' needs a port number`);
  }
  const seq = (message as { seq?: unknown }).seq;
  const numbered = type === 'end' || type === 'close' || type === 'done' || type === 'ack';
  if (numbered && !(Number.isInteger(seq) && (seq as number) >= 0)) {
    throw protocolError(`'${type}' needs its sequence number (seq)`);
  }
  return message as GatewayMessage;
}

/**
 * One direction's numbering on the receiving side: what is new, what is a repeat
 * after a resume, and what would be a gap (something lost: refused).
 */
export class SequenceTracker {
  /** The last number taken. */
  last = 0;

  /** True for the next number, false for one already taken; a gap throws. */
  take(seq: number): boolean {
    if (seq <= this.last) return false;
    if (seq !== this.last + 1) {
      throw protocolError(`message ${seq} arrived after ${this.last}: ${seq - this.last - 1} lost`);
    }
    this.last = seq;
    return true;
  }
}

/**
 * What one side sent and the other has not acknowledged yet, in order: resent after
 * a resume. Bounded by its owner, who waits while it is full.
 */
export class ReplayLog {
  private readonly entries: { seq: number; messages: (Uint8Array | string)[]; bytes: number }[] =
    [];
  /** The last number given out. */
  last = 0;
  bytes = 0;

  get size(): number {
    return this.entries.length;
  }

  /** Numbers the next item and keeps its messages (when `keep`). */
  next(keep: boolean, messages: (seq: number) => (Uint8Array | string)[]): (Uint8Array | string)[] {
    const seq = ++this.last;
    const made = messages(seq);
    if (keep) {
      let bytes = 0;
      for (const m of made) bytes += typeof m === 'string' ? m.length : m.byteLength;
      this.entries.push({ seq, messages: made, bytes });
      this.bytes += bytes;
    }
    return made;
  }

  /** The peer has everything up to `seq`. */
  ack(seq: number): void {
    while (this.entries.length > 0 && this.entries[0]!.seq <= seq) {
      this.bytes -= this.entries.shift()!.bytes;
    }
  }

  /** The messages to resend to a peer that received up to `received`; a gap throws. */
  after(received: number): (Uint8Array | string)[] {
    if (received > this.last) {
      throw protocolError(`cannot resume from ${received}: only ${this.last} were sent`);
    }
    const first = this.entries[0]?.seq ?? this.last + 1;
    if (received < first - 1) {
      throw protocolError(
        `cannot resume from ${received}: ${received + 1}..${first - 1} were acknowledged and are no longer kept`,
      );
    }
    this.ack(received);
    return this.entries.flatMap((e) => e.messages);
  }
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
