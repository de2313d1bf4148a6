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
 * grants `credit` as it takes inputs (a client has at most GATEWAY_WINDOW frames in
 * flight per port beyond the credit it was granted), `end` closes a port in either
 * direction, and the gateway ends with `done` or `error`. Anything malformed — a
 * message that fails its schema below, a frame beyond the credit, data after its
 * port's `end` or after `close`, a frame in too many parts — is a typed error
 * (kind `protocol`, close 1008; `limit` for a ceiling) and a close, never a crash.
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
 *
 * Liveness: a client that asks (`heartbeatMs` in `open` or `resume`) is sent a
 * `heartbeat` on every interval of that length in which the gateway sent it nothing
 * else, and `opened` says so by echoing `heartbeatMs`; a client then takes silence
 * past its deadline as a lost gateway, even when the connection stays up (a paused
 * process, whose kernel keeps the socket open). A browser has no WebSocket ping to
 * tell it that. Clients that do not ask are never sent one.
 */
import { z } from 'zod';
import { RemoteMediaError, type SerializedError } from './errors.ts';
import { encodeFrame, type Frame, prepareFrame } from './frame-codec.ts';
import { formatPath, type Manifest } from './manifest.ts';
import type { NodeMetricsSnapshot } from './node-metrics.ts';

// The protocol's constants, defined here only. Every client (the TypeScript
// connection, the Python client) uses these values; a test compares the Python copy.

export const GATEWAY_PROTOCOL_VERSION = 2;
/** Frames a client may send per port beyond the credit granted; one more is a protocol error. */
export const GATEWAY_WINDOW = 64;
/** A resumable peer acknowledges every this many numbered items it received. */
export const GATEWAY_ACK_EVERY = 16;
/** Bit 15 of a data message's port header: more parts of this frame follow. */
export const GATEWAY_MORE_PARTS = 0x8000;
/** The rest of the port header: the port number. */
export const GATEWAY_PORT_MASK = 0x7fff;
/**
 * The `heartbeat` message, exactly as sent: the gateway sends these bytes as they
 * are (no JSON per beat) and a client may compare the text before parsing it.
 */
export const GATEWAY_HEARTBEAT_TEXT = '{"type":"heartbeat"}';
/** The shortest and longest heartbeat interval a client may ask for (`heartbeatMs`). */
export const GATEWAY_HEARTBEAT_MIN_MS = 100;
export const GATEWAY_HEARTBEAT_MAX_MS = 900_000;

/** The part of a pipeline a gateway runs: like a runtime island, without endpoints. */
export interface RemoteIslandSpec {
  manifest: Manifest;
  /** For each input port, the source nodes it feeds. */
  inputs: { sources: string[] }[];
  /** For each output port, the sink node that writes it. */
  outputs: { sink: string }[];
}

// The message schemas. Numbers are safe integers; strings and arrays are bounded so
// that a parsed message is never much larger than the text it came from.
const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const seq = count;
const port = z.number().int().min(0).max(GATEWAY_PORT_MASK);
const messageSize = z.number().int().min(3).max(Number.MAX_SAFE_INTEGER);
/** Absent or null: refused as `unauthorized` by the gateway (not here), which says what it needs. */
const token = z.string().max(16_384).nullish();
const id = z.string().min(1).max(256);
/** Asked for in `open`/`resume`, echoed in `opened`: see `heartbeat`. */
// One message for every way a value misses (a string, a fraction, out of range), so the
// client always learns what would be valid, not only zod's "expected number".
const heartbeatMsValid = {
  error: `expected whole milliseconds from ${GATEWAY_HEARTBEAT_MIN_MS} to ${GATEWAY_HEARTBEAT_MAX_MS}`,
};
const heartbeatMs = z
  .number(heartbeatMsValid)
  .int(heartbeatMsValid)
  .min(GATEWAY_HEARTBEAT_MIN_MS, heartbeatMsValid)
  .max(GATEWAY_HEARTBEAT_MAX_MS, heartbeatMsValid);

/** A serialized RemoteMediaError (errors.ts): kind and message, the rest as sent. */
const serializedError = z
  .looseObject({ kind: z.string().max(64), message: z.string() })
  .transform((e) => e as SerializedError);

const nodeMetrics = z
  .looseObject({ nodeId: z.string() })
  .transform((n) => n as unknown as NodeMetricsSnapshot);

/**
 * The island an `open` asks for. The manifest is checked by the pipeline runner's own
 * validation (with paths into it); here only the ports are.
 */
export const remoteIslandSchema = z.object({
  manifest: z.unknown().transform((m) => m as Manifest),
  inputs: z.array(z.object({ sources: z.array(z.string()).max(4096) })).max(GATEWAY_PORT_MASK + 1),
  outputs: z.array(z.object({ sink: z.string() })).max(GATEWAY_PORT_MASK + 1),
});

export const gatewayMessageSchemas = {
  open: z.object({
    type: z.literal('open'),
    version: z.number(),
    token: token.optional(),
    /** Checked by parseRemoteIsland once the client is known (after the token). */
    island: z.unknown(),
    maxMessageSize: messageSize.optional(),
    /** Keep the session across dropped connections (the client reconnects). */
    resume: z.boolean().optional(),
    /** Send a `heartbeat` on every interval this long in which nothing else was sent. */
    heartbeatMs: heartbeatMs.optional(),
  }),
  opened: z.object({
    type: z.literal('opened'),
    sessionId: id,
    maxMessageSize: messageSize,
    resumeKey: id.optional(),
    /**
     * The gateway's name in a fleet behind a load balancer (`--name`): a resume
     * connects with `?gateway=<name>` so the balancer sends it to the gateway that
     * holds the session (remote-gateway/deploy/nginx.conf).
     */
    gateway: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/)
      .optional(),
    /** The `open`'s heartbeatMs, echoed: this gateway sends heartbeats (older ones do not). */
    heartbeatMs: heartbeatMs.optional(),
  }),
  resume: z.object({
    type: z.literal('resume'),
    version: z.number(),
    token: token.optional(),
    sessionId: id,
    resumeKey: id,
    /** The last number the client received from the gateway. */
    received: seq,
    maxMessageSize: messageSize.optional(),
    /** As in `open`: heartbeats on this connection too. */
    heartbeatMs: heartbeatMs.optional(),
  }),
  resumed: z.object({
    type: z.literal('resumed'),
    maxMessageSize: messageSize,
    /** The last number the gateway received from the client. */
    received: seq,
    /** Inputs taken so far per port: the client's credit starts from these. */
    taken: z.array(count).max(GATEWAY_PORT_MASK + 1),
  }),
  credit: z.object({
    type: z.literal('credit'),
    port,
    frames: z
      .number()
      .int()
      .min(1)
      .max(2 ** 31),
  }),
  /** The client asks for the session's per-node metrics; the gateway answers with `nodes`. */
  metrics: z.object({
    type: z.literal('metrics'),
    id: count,
    nodes: z.array(nodeMetrics).optional(),
  }),
  /** Everything numbered up to `seq` arrived: the sender may forget it. */
  ack: z.object({ type: z.literal('ack'), seq }),
  end: z.object({ type: z.literal('end'), port, seq }),
  close: z.object({ type: z.literal('close'), seq }),
  done: z.object({ type: z.literal('done'), seq }),
  error: z.object({ type: z.literal('error'), error: serializedError, seq: seq.optional() }),
  /**
   * The gateway is shutting down (SIGTERM): it takes no new sessions, and this
   * session should finish within `deadlineMs` or be cut. Advisory: a client may
   * ignore it (nothing numbered, nothing to acknowledge).
   */
  draining: z.object({ type: z.literal('draining'), deadlineMs: count.optional() }),
  /**
   * Barge-in, client to gateway, unnumbered and outside credit: an interrupt control
   * is on its way on `port` (its frame follows in order). The gateway interrupts its
   * island's `bargeIn.to` nodes now, not when the frame's turn comes behind queued
   * input. `timestampUs`, the frame's own stamp, names the interrupt: it acts once.
   * Without it, the next unstamped interrupt control on the port is its copy. A frame
   * that never follows leaves the nodes' input stale for `bargeIn.staleLimitMs` at
   * most (interrupt-gate.ts), not for ever.
   */
  interrupt: z.object({
    type: z.literal('interrupt'),
    port,
    timestampUs: z.number().finite().optional(),
  }),
  /**
   * Gateway to client, unnumbered, only to a client that asked (`heartbeatMs`): the
   * gateway is alive and had nothing else to send for an interval. Sent as
   * GATEWAY_HEARTBEAT_TEXT exactly. Nothing to answer.
   */
  heartbeat: z.object({ type: z.literal('heartbeat') }),
} as const;

const MESSAGE_TYPES = Object.keys(gatewayMessageSchemas) as (keyof typeof gatewayMessageSchemas)[];
const gatewayMessageSchema = z.discriminatedUnion(
  'type',
  Object.values(gatewayMessageSchemas) as unknown as [
    (typeof gatewayMessageSchemas)[keyof typeof gatewayMessageSchemas],
  ],
);

/** A control message, as sent and as parsed. */
export type GatewayMessage = {
  [K in keyof typeof gatewayMessageSchemas]: z.output<(typeof gatewayMessageSchemas)[K]>;
}[keyof typeof gatewayMessageSchemas];

/** The messages that take a number in their sender's sequence. */
export type SequencedMessage = Extract<
  GatewayMessage,
  { type: 'end' | 'close' | 'done' | 'error' }
>;

/** Parses one text message; anything that is not a valid message is a 'protocol' error. */
export function parseGatewayMessage(text: string): GatewayMessage {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    throw protocolError('a control message is not JSON');
  }
  const type = (message as { type?: unknown } | null)?.type;
  if (typeof type !== 'string' || !(MESSAGE_TYPES as string[]).includes(type)) {
    throw protocolError(
      `unknown control message type ${JSON.stringify(type)?.slice(0, 64)}; valid: ${MESSAGE_TYPES.join(', ')}`,
    );
  }
  const parsed = gatewayMessageSchema.safeParse(message);
  if (!parsed.success) throw schemaError(`'${type}'`, parsed.error);
  return parsed.data as GatewayMessage;
}

/** The island of an `open`, checked: its ports (the manifest is validated when it is run). */
export function parseRemoteIsland(island: unknown): RemoteIslandSpec {
  const parsed = remoteIslandSchema.safeParse(island);
  if (!parsed.success) throw schemaError("'open' island", parsed.error);
  return parsed.data;
}

function schemaError(what: string, error: z.ZodError): RemoteMediaError {
  const issues = error.issues
    .slice(0, 4)
    .map((issue) => `${formatPath(issue.path) || '(root)'}: ${issue.message}`);
  return protocolError(`invalid ${what} message: ${issues.join('; ')}`);
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
  return new RemoteMediaError('protocol', `Gateway protocol: ${message}`);
}

/** Splits one frame into the binary messages that carry it to `port`. */
export function packFrame(port: number, frame: Uint8Array, maxMessageSize: number): Uint8Array[] {
  if (port > GATEWAY_PORT_MASK) throw protocolError(`port ${port} is over ${GATEWAY_PORT_MASK}`);
  const room = maxMessageSize - 2;
  if (room < 1) throw protocolError(`max message size ${maxMessageSize} is too small`);
  const parts: Uint8Array[] = [];
  for (let at = 0; at === 0 || at < frame.length; at += room) {
    const end = Math.min(frame.length, at + room);
    const part = new Uint8Array(2 + end - at);
    const more = end < frame.length;
    part[0] = port & 0xff;
    part[1] = (port >> 8) | (more ? GATEWAY_MORE_PARTS >> 8 : 0);
    part.set(frame.subarray(at, end), 2);
    parts.push(part);
  }
  return parts;
}

/**
 * packFrame(port, encodeFrame(frame), maxMessageSize), with the frame encoded straight
 * into its one message when it fits (the data path's usual case): one buffer and one
 * copy of the data per frame instead of two of each.
 */
export function packFrameOf(port: number, frame: Frame, maxMessageSize: number): Uint8Array[] {
  const prepared = prepareFrame(frame);
  if (prepared.length + 2 > maxMessageSize || port > GATEWAY_PORT_MASK) {
    return packFrame(port, encodeFrame(frame), maxMessageSize);
  }
  const part = new Uint8Array(2 + prepared.length);
  part[0] = port & 0xff;
  part[1] = port >> 8;
  prepared.writeInto(part, 2);
  return [part];
}

/** What a part costs beyond its bytes, charged against the frame limit. */
export const PART_CHARGE_BYTES = 64;

export interface FrameAssemblerLimits {
  /** Parts one frame may travel in. Default 4096. */
  maxParts?: number;
  /** Ports that exist (0..ports-1): a part for another is refused at once. Default: any. */
  ports?: number;
}

/**
 * Reassembles frames from binary messages, per port. What it holds is bounded: the
 * bytes of unfinished frames plus PART_CHARGE_BYTES per part stay under the frame
 * limit, and a frame has at most `maxParts` parts. Parts are copied into one growing
 * buffer per port (amortized linear time; no object kept per part), so many tiny
 * parts cost what their bytes cost. Not for concurrent use: one per connection.
 */
export class FrameAssembler {
  private readonly pending = new Map<
    number,
    { bytes: Uint8Array; length: number; parts: number }
  >();
  private charged = 0;
  private readonly maxParts: number;
  private readonly ports: number;

  /** @param maxFrameBytes a frame larger than this is refused (a peer must not exhaust memory). */
  constructor(
    private readonly maxFrameBytes: number,
    limits: FrameAssemblerLimits = {},
  ) {
    this.maxParts = limits.maxParts ?? 4096;
    this.ports = limits.ports ?? GATEWAY_PORT_MASK + 1;
  }

  /** The port and the whole frame when `message` completes one, else undefined. */
  push(message: Uint8Array): { port: number; frame: Uint8Array } | undefined {
    if (message.length < 3) {
      throw protocolError(`a ${message.length}-byte data message is too short (at least 3)`);
    }
    const header = message[0]! | (message[1]! << 8);
    const port = header & GATEWAY_PORT_MASK;
    if (port >= this.ports) {
      throw protocolError(`data for port ${port}: this session has ports 0..${this.ports - 1}`);
    }
    const payload = message.subarray(2);
    const more = (header & GATEWAY_MORE_PARTS) !== 0;
    const held = this.pending.get(port);
    if (!held && !more) {
      if (payload.length > this.maxFrameBytes) throw this.tooLarge();
      return { port, frame: payload };
    }
    const entry = held ?? { bytes: new Uint8Array(0), length: 0, parts: 0 };
    entry.parts++;
    this.charged += payload.length + PART_CHARGE_BYTES;
    if (this.charged > this.maxFrameBytes) throw this.tooLarge();
    if (entry.parts > this.maxParts) {
      throw protocolError(`a frame in over ${this.maxParts} parts is refused (port ${port})`);
    }
    if (entry.length + payload.length > entry.bytes.length) {
      const grown = new Uint8Array(
        Math.min(
          this.maxFrameBytes,
          Math.max(entry.length + payload.length, entry.bytes.length * 2, 4096),
        ),
      );
      grown.set(entry.bytes.subarray(0, entry.length));
      entry.bytes = grown;
    }
    entry.bytes.set(payload, entry.length);
    entry.length += payload.length;
    if (more) {
      this.pending.set(port, entry);
      return undefined;
    }
    this.pending.delete(port);
    this.charged -= entry.length + entry.parts * PART_CHARGE_BYTES;
    // Exactly sized: a frame may be held a while (queued input), its slack need not.
    const frame =
      entry.bytes.length === entry.length ? entry.bytes : entry.bytes.slice(0, entry.length);
    return { port, frame };
  }

  private tooLarge(): RemoteMediaError {
    return protocolError(
      `a frame of over ${this.maxFrameBytes} bytes (counting ${PART_CHARGE_BYTES} per part) is refused`,
    );
  }
}
