/**
 * The gateway's side of application-level liveness (gateway-protocol.ts,
 * `heartbeat`): a client that asked is sent GATEWAY_HEARTBEAT_TEXT on every interval
 * in which nothing else was written to its connection. A browser cannot see
 * WebSocket pings, so a paused gateway (SIGSTOP: its kernel keeps the TCP connection
 * open) looks to it like an idle one; a heartbeat it stops hearing tells them apart.
 *
 * "Nothing else was written" is read from the TCP socket's own byte count, so the
 * data path does not note anything per frame: a busy session never gets a beat and
 * pays nothing for it. One timer per connection that asked; none otherwise.
 */
import type { Socket } from 'node:net';
import type WebSocket from 'ws';
import { GATEWAY_HEARTBEAT_TEXT } from '../web/core/internal.ts';

/** The message's bytes, made once: ws sends an unmasked server frame without copying them. */
const HEARTBEAT = Buffer.from(GATEWAY_HEARTBEAT_TEXT);
const AS_TEXT = { binary: false } as const;

/**
 * Starts the beats of one connection; returns what stops them (call it on close).
 * `socket` is the connection's TCP (or TLS) socket, the one `ws` writes to.
 */
export function startIdleHeartbeat(ws: WebSocket, socket: Socket, intervalMs: number): () => void {
  let written = socket.bytesWritten;
  const timer = setInterval(() => {
    const now = socket.bytesWritten;
    if (now !== written) {
      written = now; // something went out in this interval: the client heard the gateway
      return;
    }
    // Bytes still queued: the client has something coming, and a beat behind them
    // would tell it nothing more (on a client that stopped reading, beats would pile up).
    if (ws.readyState !== ws.OPEN || socket.writableLength > 0) return;
    ws.send(HEARTBEAT, AS_TEXT);
    written = socket.bytesWritten;
  }, intervalMs);
  return () => clearInterval(timer);
}
