/**
 * One write per outgoing data message: the gateway encodes a frame behind room for
 * its WebSocket header, writes the header there and hands the whole message to the
 * TCP socket in one write. Through ws.send every message was a header Buffer, a cork,
 * two writes and a writev — the gateway's largest send cost per frame.
 *
 * This writes to ws's socket beside ws's own sender, which is safe only while that
 * sender holds nothing back and frames nothing itself: no compression negotiated
 * (permessage-deflate keeps a queue and sets RSV1), nothing queued (a blob or a
 * deflate in progress), and not in the middle of a fragmented message. rawSocketOf()
 * checks exactly that, per message, from ws's own fields; when they are not there
 * (another ws version) it answers undefined and ws.send is used, as before.
 */
import type { Socket } from 'node:net';
import type WebSocket from 'ws';

/** The fields of ws 8's WebSocket and Sender read here (private to ws, so checked). */
interface WsInternals {
  _socket?: Socket | null;
  _extensions?: Record<string, unknown>;
  _sender?: { _state?: unknown; _queue?: unknown[]; _firstFragment?: unknown } | null;
}

/** The length of a server's (unmasked) frame header for a payload of `length` bytes. */
export function headerLength(length: number): number {
  return length < 126 ? 2 : length < 65536 ? 4 : 10;
}

/**
 * Writes a final binary frame's header for a payload of `length` bytes at
 * `target[0, headerLength(length))`.
 */
export function writeBinaryHeader(target: Uint8Array, length: number): void {
  target[0] = 0x82; // FIN, opcode 2 (binary)
  if (length < 126) {
    target[1] = length;
  } else if (length < 65536) {
    target[1] = 126;
    target[2] = length >> 8;
    target[3] = length & 0xff;
  } else {
    target[1] = 127;
    // 64-bit big-endian length; a message never reaches 2^32 bytes (maxMessageSize).
    target[2] = target[3] = target[4] = target[5] = 0;
    target[6] = length >>> 24;
    target[7] = (length >>> 16) & 0xff;
    target[8] = (length >>> 8) & 0xff;
    target[9] = length & 0xff;
  }
}

/** ws's TCP socket when a pre-framed message may be written to it now, else undefined. */
export function rawSocketOf(ws: WebSocket): Socket | undefined {
  const { _socket, _extensions, _sender } = ws as unknown as WsInternals;
  if (!_socket || !_extensions || !_sender || !Array.isArray(_sender._queue)) return undefined;
  // Sender state 0 is DEFAULT (not deflating, not reading a blob).
  if (_sender._state !== 0 || _sender._queue.length > 0 || _sender._firstFragment !== true) {
    return undefined;
  }
  // permessage-deflate is the one extension ws negotiates.
  if (_extensions['permessage-deflate'] !== undefined) return undefined;
  return _socket.writable ? _socket : undefined;
}
