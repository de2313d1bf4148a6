/**
 * A raw gateway client for tests: it sends whatever the test says — including what
 * a well-behaved client (gateway-connection.ts) never would — and records every
 * message and the close code. Node only (the ws package).
 */
import WebSocket from 'ws';
import {
  decodeFrame,
  encodeFrame,
  GATEWAY_PORT_MASK,
  GATEWAY_PROTOCOL_VERSION,
  type Manifest,
  packFrame,
  type RemoteIslandSpec,
  type RuntimeData,
} from '../../web/core/internal.ts';

export type Received =
  | { kind: 'control'; message: Record<string, unknown> & { type: string } }
  | { kind: 'frame'; port: number; sequence: number; data: RuntimeData };

export class RawClient {
  readonly received: Received[] = [];
  /** The close code, once closed. */
  closed: number | undefined;
  readonly closing: Promise<number>;
  private waiters: (() => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    this.closing = new Promise((resolve) =>
      ws.on('close', (code) => {
        this.closed = code;
        this.wake();
        resolve(code);
      }),
    );
    ws.on('error', () => {});
    ws.on('message', (raw, isBinary) => {
      const bytes = raw as Buffer;
      if (isBinary) {
        // Whole frames only here: tests give this client a large max message size.
        const port = (bytes[0]! | (bytes[1]! << 8)) & GATEWAY_PORT_MASK;
        try {
          const { sequence, data } = decodeFrame(new Uint8Array(bytes.subarray(2)));
          this.received.push({ kind: 'frame', port, sequence, data });
        } catch {
          // A part of a larger frame: not what these tests look at.
        }
      } else {
        this.received.push({ kind: 'control', message: JSON.parse(bytes.toString('utf8')) });
      }
      this.wake();
    });
  }

  static connect(url: string): Promise<RawClient> {
    const ws = new WebSocket(url);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new RawClient(ws)));
      ws.once('error', reject);
    });
  }

  /** Connects and opens a session on `island`; resolves once `opened` arrives. */
  static async open(
    url: string,
    token: string,
    island: RemoteIslandSpec,
    extra: Record<string, unknown> = {},
  ): Promise<RawClient> {
    const client = await RawClient.connect(url);
    client.send({ type: 'open', version: GATEWAY_PROTOCOL_VERSION, token, island, ...extra });
    // A heartbeat (asked for in `extra`) may come first, while the island opens.
    const opened = await client.waitFor(
      (r) => r.kind === 'control' && r.message.type !== 'heartbeat',
    );
    if (opened?.kind !== 'control' || opened.message.type !== 'opened') {
      throw new Error(`not opened: ${JSON.stringify(opened ?? client.closed)}`);
    }
    return client;
  }

  get open(): boolean {
    return this.ws.readyState === this.ws.OPEN;
  }

  send(message: unknown): void {
    if (this.open) this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  sendBinary(bytes: Uint8Array): void {
    if (this.open) this.ws.send(bytes);
  }

  /** One input frame numbered `sequence` to `port`, in one message. */
  sendFrame(port: number, sequence: number, data: RuntimeData): void {
    for (const part of packFrame(port, encodeFrame({ sequence, data }), 1 << 30)) {
      this.sendBinary(part);
    }
  }

  /** The first received item (from `from` on) that matches, or undefined once closed. */
  async waitFor(match: (r: Received) => boolean, from = 0): Promise<Received | undefined> {
    for (;;) {
      const found = this.received.slice(from).find(match);
      if (found || this.closed !== undefined) return found;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** The session's last word: its `error` (or `done`) and the close code. */
  async ending(): Promise<{ message: Record<string, unknown> | undefined; code: number }> {
    const code = await this.closing;
    const last = this.received.findLast(
      (r) => r.kind === 'control' && (r.message.type === 'error' || r.message.type === 'done'),
    );
    return { message: last?.kind === 'control' ? last.message : undefined, code };
  }

  terminate(): void {
    this.ws.terminate();
  }

  private wake(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }
}

/** The island of a manifest whose input port 0 feeds `source` and output 0 is `sink`. */
export function islandOf(manifest: Manifest, source: string, sink: string): RemoteIslandSpec {
  return { manifest, inputs: [{ sources: [source] }], outputs: [{ sink }] };
}

/** This process's resident set in MiB. */
export function rssMiB(): number {
  return process.memoryUsage().rss / 2 ** 20;
}
