/**
 * The client side of one gateway session (protocol: web/core/gateway-protocol.ts):
 * opens a WebSocket, sends the island to run, then moves frames both ways. Inputs
 * respect the gateway's credit (at most GATEWAY_WINDOW frames in flight per port);
 * outputs are handed to `onOutput`, whose promise holds further reading back.
 * Runs in a page, a worker, or Node (pass `WebSocket` from the ws package there).
 */
import {
  decodeFrame,
  encodeFrame,
  FrameAssembler,
  GATEWAY_PROTOCOL_VERSION,
  GATEWAY_WINDOW,
  type GatewayMessage,
  packFrame,
  parseGatewayMessage,
  type RemoteConfig,
  RemoteMediaError,
  type RemoteIslandSpec,
  type RuntimeData,
} from '../../core/index.ts';

export interface GatewayClientOptions {
  /** The token the gateway was started with. */
  token: string;
  /** A WebSocket class, where there is no global one (Node 20: the ws package). */
  WebSocket?: typeof WebSocket;
}

export interface GatewayHandlers {
  onOutput(port: number, data: RuntimeData): Promise<void> | undefined;
  onOutputEnd(port: number): void;
}

export function gatewayUrl(remote: RemoteConfig): string {
  return `${remote.ssl_enabled ? 'wss' : 'ws'}://${remote.host}:${remote.port}/v1`;
}

export class GatewayConnection {
  /** Settles when the session ends: resolves on `done`, rejects with its error. */
  readonly done: Promise<void>;
  private settle!: { resolve(): void; reject(error: RemoteMediaError): void };
  private readonly inFlight: number[];
  private readonly waiting: (() => void)[][];
  private maxMessageSize: number;
  private ended = false;
  private failure: RemoteMediaError | undefined;

  private constructor(
    private readonly socket: WebSocket,
    island: RemoteIslandSpec,
    private readonly handlers: GatewayHandlers,
    localMax: number,
  ) {
    this.maxMessageSize = localMax;
    this.inFlight = island.inputs.map(() => 0);
    this.waiting = island.inputs.map(() => []);
    this.done = new Promise<void>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    this.done.catch(() => {});
  }

  static open(
    remote: RemoteConfig,
    island: RemoteIslandSpec,
    handlers: GatewayHandlers,
    options: GatewayClientOptions,
  ): Promise<GatewayConnection> {
    const Socket = options.WebSocket ?? globalThis.WebSocket;
    const url = gatewayUrl(remote);
    const localMax = remote.max_message_size ?? 1 << 20;
    const socket = new Socket(url);
    socket.binaryType = 'arraybuffer';
    const connection = new GatewayConnection(socket, island, handlers, localMax);
    const assembler = new FrameAssembler(64 << 20);
    let reading: Promise<void> = Promise.resolve();
    return new Promise<GatewayConnection>((resolve, reject) => {
      let opened = false;
      socket.onopen = () => {
        const open: GatewayMessage = {
          type: 'open',
          version: GATEWAY_PROTOCOL_VERSION,
          token: options.token,
          island,
          maxMessageSize: localMax,
        };
        socket.send(JSON.stringify(open));
      };
      socket.onmessage = (event: MessageEvent) => {
        try {
          if (typeof event.data === 'string') {
            const message = parseGatewayMessage(event.data);
            if (message.type === 'opened') {
              opened = true;
              connection.maxMessageSize = Math.min(localMax, message.maxMessageSize);
              resolve(connection);
            } else if (message.type === 'error') {
              const error = RemoteMediaError.fromJSON(message.error);
              if (!opened) reject(error);
              connection.fail(error);
            } else {
              // After the outputs already received: keep the order of the stream.
              reading = reading.then(() => connection.onControl(message));
            }
            return;
          }
          const whole = assembler.push(new Uint8Array(event.data as ArrayBuffer));
          if (!whole) return;
          const data = decodeFrame(whole.frame).data;
          reading = reading.then(() => handlers.onOutput(whole.port, data));
          reading.catch((error: unknown) => connection.fail(asError(error)));
        } catch (error) {
          connection.fail(asError(error));
          socket.close(1007);
        }
      };
      socket.onerror = () => {
        const error = new RemoteMediaError(
          'worker_lost',
          `cannot reach the gateway at ${url} (is it running, and is this origin allowed?)`,
        );
        if (!opened) reject(error);
        connection.fail(error);
      };
      socket.onclose = (event: CloseEvent) => {
        const error = new RemoteMediaError(
          'worker_lost',
          `the gateway connection closed (code ${event.code}${event.reason ? `: ${event.reason}` : ''}) before the session ended`,
        );
        if (!opened) reject(error);
        void reading.then(() => connection.fail(error));
      };
    });
  }

  /** Sends one input; returns a promise only when it had to wait for credit. */
  send(port: number, data: RuntimeData): Promise<void> | undefined {
    if (this.failure) return Promise.reject(this.failure);
    if (this.inFlight[port]! >= GATEWAY_WINDOW) {
      return new Promise<void>((resolve) => this.waiting[port]!.push(resolve)).then(() =>
        this.send(port, data),
      );
    }
    this.inFlight[port]!++;
    for (const part of packFrame(port, encodeFrame({ sequence: 0, data }), this.maxMessageSize)) {
      this.socket.send(part);
    }
    return undefined;
  }

  endInput(port: number): void {
    if (!this.failure)
      this.socket.send(JSON.stringify({ type: 'end', port } satisfies GatewayMessage));
  }

  close(): void {
    if (!this.failure) this.socket.send(JSON.stringify({ type: 'close' } satisfies GatewayMessage));
  }

  /** Ends the session from this side, at once. */
  abort(reason: string): void {
    this.fail(new RemoteMediaError('aborted', `Aborted: ${reason}`));
    this.socket.close(1000);
  }

  private onControl(message: GatewayMessage): void {
    switch (message.type) {
      case 'credit': {
        this.inFlight[message.port] = Math.max(0, this.inFlight[message.port]! - message.frames);
        const waiting = this.waiting[message.port]!.splice(0);
        for (const wake of waiting) wake();
        return;
      }
      case 'end':
        this.handlers.onOutputEnd(message.port);
        return;
      case 'done':
        this.ended = true;
        this.settle.resolve();
        return;
      default:
        throw new RemoteMediaError('usage', `unexpected '${message.type}' from the gateway`);
    }
  }

  private fail(error: RemoteMediaError): void {
    if (this.failure || this.ended) return;
    this.failure = error;
    for (const waiting of this.waiting) for (const wake of waiting.splice(0)) wake();
    this.settle.reject(error);
  }
}

function asError(error: unknown): RemoteMediaError {
  return error instanceof RemoteMediaError
    ? error
    : new RemoteMediaError('worker_lost', String((error as Error)?.message ?? error));
}
