/**
 * A minimal WebSocket client over a raw TCP socket, for the gateway load generator
 * (bench/gateway-load.ts): the handshake once, then frames the caller built ahead of
 * time (masked, as a client's must be: RFC 6455 §5.3) written as they are, and an
 * incremental reader of the server's frames that allocates nothing per data message.
 * A load generator built on `ws` objects paid more CPU per frame than the server it
 * measured; this one is meant to cost a small fraction of it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
export const OP_TEXT = 1;
export const OP_BINARY = 2;
export const OP_CLOSE = 8;
export const OP_PING = 9;
export const OP_PONG = 10;

/**
 * One client frame (FIN set) with `payload` masked by `mask`: built once per distinct
 * message and written as often as needed (the mask need not change per frame for the
 * server; it still unmasks every byte, as it would for a browser's frame).
 */
export function clientFrame(opcode: number, payload: Uint8Array, mask: Uint8Array): Buffer {
  const n = payload.length;
  const lengthBytes = n < 126 ? 0 : n < 65536 ? 2 : 8;
  const head = 2 + lengthBytes + 4;
  const out = Buffer.allocUnsafe(head + n);
  out[0] = 0x80 | opcode;
  if (lengthBytes === 0) out[1] = 0x80 | n;
  else if (lengthBytes === 2) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(n, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeBigUInt64BE(BigInt(n), 2);
  }
  out.set(mask.subarray(0, 4), 2 + lengthBytes);
  for (let i = 0; i < n; i++) out[head + i] = payload[i]! ^ mask[i & 3]!;
  return out;
}

/** What a reader reports, per socket. */
export interface WireHandlers {
  /**
   * A binary message ended; `prefix` holds its first `prefixLength` bytes (at most
   * 16: enough for the port header and a frame header's sequence), reused per call.
   */
  binary(prefix: Uint8Array, prefixLength: number, length: number): void;
  /** A text message (rare on the data path: credit, done, error). */
  text(text: string): void;
  /** A ping, a close or a protocol fault of the server's stream. */
  control(opcode: number, payload: Buffer): void;
}

const PREFIX_BYTES = 16;

/**
 * Incremental parser of a server's (unmasked) frame stream. Binary payloads are not
 * kept: only their first bytes are copied into a reused prefix buffer, the rest is
 * counted. Text and control payloads are gathered (rare).
 */
export class WireReader {
  private readonly head = Buffer.alloc(14);
  private headHave = 0;
  private headNeed = 2;
  private inPayload = false;
  private opcode = 0;
  private remaining = 0;
  private length = 0;
  private readonly prefix = new Uint8Array(PREFIX_BYTES);
  private prefixHave = 0;
  /** Opcode of the message being continued (fragments); text parts gathered here. */
  private messageOpcode = 0;
  private gathered: Buffer[] = [];
  private messageLength = 0;

  constructor(private readonly on: WireHandlers) {}

  feed(chunk: Uint8Array, start: number, end: number): void {
    let at = start;
    while (at < end) {
      if (!this.inPayload) {
        const take = Math.min(this.headNeed - this.headHave, end - at);
        for (let i = 0; i < take; i++) this.head[this.headHave++] = chunk[at++]!;
        if (this.headHave < this.headNeed) return;
        if (this.headHave === 2) {
          const b1 = this.head[1]!;
          if (b1 & 0x80) return this.fault('a server frame is masked');
          const short = b1 & 0x7f;
          this.headNeed = short === 126 ? 4 : short === 127 ? 10 : 2;
          if (this.headHave < this.headNeed) continue;
        }
        this.beginPayload();
        if (this.remaining === 0) this.endFrame();
        continue;
      }
      const take = Math.min(this.remaining, end - at);
      if (this.isBinaryData()) {
        const room = Math.min(PREFIX_BYTES - this.prefixHave, take);
        for (let i = 0; i < room; i++) this.prefix[this.prefixHave++] = chunk[at + i]!;
      } else {
        this.gathered.push(Buffer.from(chunk.subarray(at, at + take)));
      }
      at += take;
      this.remaining -= take;
      if (this.remaining === 0) this.endFrame();
    }
  }

  private isBinaryData(): boolean {
    return this.opcode === OP_BINARY || (this.opcode === 0 && this.messageOpcode === OP_BINARY);
  }

  private beginPayload(): void {
    const b0 = this.head[0]!;
    const short = this.head[1]! & 0x7f;
    this.opcode = b0 & 0x0f;
    this.length =
      short === 126
        ? this.head.readUInt16BE(2)
        : short === 127
          ? Number(this.head.readBigUInt64BE(2))
          : short;
    this.remaining = this.length;
    this.inPayload = true;
    if (this.opcode === OP_TEXT || this.opcode === OP_BINARY) {
      this.messageOpcode = this.opcode;
      this.messageLength = 0;
      this.prefixHave = 0;
    }
  }

  private endFrame(): void {
    const fin = (this.head[0]! & 0x80) !== 0;
    const opcode = this.opcode;
    this.inPayload = false;
    this.headHave = 0;
    this.headNeed = 2;
    if (opcode >= 8) {
      const payload = Buffer.concat(this.gathered);
      this.gathered = [];
      this.on.control(opcode, payload);
      return;
    }
    this.messageLength += this.length;
    if (!fin) return;
    if (this.messageOpcode === OP_BINARY) {
      this.on.binary(this.prefix, this.prefixHave, this.messageLength);
    } else {
      const text = Buffer.concat(this.gathered).toString('utf8');
      this.gathered = [];
      this.on.text(text);
    }
  }

  private fault(why: string): void {
    this.on.control(-1, Buffer.from(why));
  }
}

/**
 * Connects and upgrades to a WebSocket at `path`; resolves with the socket once the
 * server's 101 (with the right Sec-WebSocket-Accept) is in. Frames are read through
 * `onread` into one buffer per socket that Node reuses (no Buffer per read).
 */
export function connectWire(
  port: number,
  path: string,
  reader: WireReader,
  onClosed: () => void,
): Promise<Socket> {
  const key = randomBytes(16).toString('base64');
  const accept = createHash('sha1')
    .update(key + GUID)
    .digest('base64');
  let upgraded = false;
  let response = '';
  return new Promise((resolve, reject) => {
    const socket = connect({
      port,
      host: '127.0.0.1',
      noDelay: true,
      onread: {
        buffer: Buffer.allocUnsafe(64 << 10),
        callback(nread: number, buffer: Uint8Array): boolean {
          if (upgraded) {
            reader.feed(buffer, 0, nread);
            return true;
          }
          response += Buffer.from(buffer.subarray(0, nread)).toString('latin1');
          const end = response.indexOf('\r\n\r\n');
          if (end < 0) return true;
          const headers = response.slice(0, end);
          if (!/^HTTP\/1\.1 101 /.test(headers) || !headers.includes(accept)) {
            socket.destroy();
            reject(new Error(`WebSocket upgrade refused: ${headers.split('\r\n')[0]}`));
            return false;
          }
          upgraded = true;
          const rest = Buffer.from(response.slice(end + 4), 'latin1');
          if (rest.length > 0) reader.feed(rest, 0, rest.length);
          resolve(socket);
          return true;
        },
      },
    });
    socket.once('connect', () =>
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
          `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ),
    );
    socket.once('error', (error) => (upgraded ? socket.destroy() : reject(error)));
    socket.once('close', onClosed);
  });
}
