/**
 * The client side of one gateway session (protocol: web/core/gateway-protocol.ts):
 * opens a WebSocket, sends the island to run, then moves frames both ways. Inputs
 * respect the gateway's credit (at most GATEWAY_WINDOW frames in flight per port);
 * outputs are handed to `onOutput`, whose promise holds further reading back.
 *
 * With `remote.reconnect`, a dropped connection is not the end: the connection
 * keeps what the gateway has not acknowledged, reconnects with `resume`, resends
 * what the gateway missed and drops what it already had, so every frame arrives
 * exactly once each way. Runs in a page, a worker, or Node (pass `WebSocket` from
 * the ws package there).
 */
import {
  decodeFrame,
  FrameAssembler,
  GATEWAY_ACK_EVERY,
  GATEWAY_PROTOCOL_VERSION,
  GATEWAY_WINDOW,
  type GatewayMessage,
  type NodeMetricsSnapshot,
  packFrameOf,
  parseGatewayMessage,
  type RemoteConfig,
  RemoteMediaError,
  type RemoteIslandSpec,
  ReplayLog,
  type RuntimeData,
  SequenceTracker,
} from '../../core/internal.ts';

export interface GatewayClientOptions {
  /** The token the gateway was started with. */
  token: string;
  /** A WebSocket class, where there is no global one (Node 20: the ws package). */
  WebSocket?: typeof WebSocket;
  /** With `remote.reconnect`: how long to keep trying to resume. Default 20 s. */
  reconnectWindowMs?: number;
}

export interface GatewayHandlers {
  onOutput(port: number, data: RuntimeData): Promise<void> | undefined;
  onOutputEnd(port: number): void;
}

export function gatewayUrl(remote: RemoteConfig): string {
  return `${remote.ssl_enabled ? 'wss' : 'ws'}://${remote.host}:${remote.port}/v1`;
}

type Reply = Extract<GatewayMessage, { type: 'opened' | 'resumed' }>;

export class GatewayConnection {
  /** Settles when the session ends: resolves on `done`, rejects with its error. */
  readonly done: Promise<void>;
  /** Times the connection dropped and the session was resumed. */
  resumes = 0;
  private settle!: { resolve(): void; reject(error: RemoteMediaError): void };
  private socket!: WebSocket;
  private assembler = new FrameAssembler(64 << 20);
  private reading: Promise<void> = Promise.resolve();
  private readonly sent = new ReplayLog();
  private readonly received = new SequenceTracker();
  private readonly sentPerPort: number[];
  private readonly granted: number[];
  private readonly waiting: (() => void)[][];
  private readonly url: string;
  private readonly localMax: number;
  private maxMessageSize: number;
  private sessionId = '';
  private resumeKey: string | undefined;
  /** The gateway's name in a fleet (`opened.gateway`): resumes are routed to it. */
  private gatewayName: string | undefined;
  /** Writing to the socket: not while connecting, resuming or after the end. */
  private live = false;
  private ended = false;
  private metricsCounter = 0;
  private readonly metricsAsked = new Map<number, (nodes: NodeMetricsSnapshot[]) => void>();
  /** `done` arrived: the close that follows it is the end, not a drop. */
  private finishing = false;
  private failure: RemoteMediaError | undefined;

  private constructor(
    remote: RemoteConfig,
    island: RemoteIslandSpec,
    private readonly handlers: GatewayHandlers,
    private readonly options: GatewayClientOptions,
  ) {
    this.url = gatewayUrl(remote);
    this.localMax = remote.max_message_size ?? 1 << 20;
    this.maxMessageSize = this.localMax;
    this.sentPerPort = island.inputs.map(() => 0);
    this.granted = island.inputs.map(() => 0);
    this.waiting = island.inputs.map(() => []);
    this.done = new Promise<void>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    this.done.catch(() => {});
  }

  static async open(
    remote: RemoteConfig,
    island: RemoteIslandSpec,
    handlers: GatewayHandlers,
    options: GatewayClientOptions,
  ): Promise<GatewayConnection> {
    const connection = new GatewayConnection(remote, island, handlers, options);
    const reply = await connection.connect({
      type: 'open',
      version: GATEWAY_PROTOCOL_VERSION,
      token: options.token,
      island,
      maxMessageSize: connection.localMax,
      resume: remote.reconnect === true,
    });
    if (reply.type !== 'opened') throw new RemoteMediaError('usage', 'the gateway did not open');
    connection.sessionId = reply.sessionId;
    connection.resumeKey = reply.resumeKey;
    connection.gatewayName = reply.gateway;
    connection.maxMessageSize = Math.min(connection.localMax, reply.maxMessageSize);
    connection.live = true;
    return connection;
  }

  /** The gateway gave a resume key: keep what it has not acknowledged. */
  private get resumable(): boolean {
    return this.resumeKey !== undefined;
  }

  /** Sends one input; returns a promise only when it had to wait for credit. */
  send(port: number, data: RuntimeData): Promise<void> | undefined {
    if (this.failure) return Promise.reject(this.failure);
    if (this.sentPerPort[port]! - this.granted[port]! >= GATEWAY_WINDOW) {
      return new Promise<void>((resolve) => this.waiting[port]!.push(resolve)).then(() =>
        this.send(port, data),
      );
    }
    this.sentPerPort[port]!++;
    this.write(
      this.sent.next(this.resumable, (sequence) =>
        packFrameOf(port, { sequence, data }, this.maxMessageSize),
      ),
    );
    return undefined;
  }

  endInput(port: number): void {
    if (!this.failure) this.sequenced({ type: 'end', port });
  }

  close(): void {
    if (!this.failure) this.sequenced({ type: 'close' });
  }

  /**
   * The per-node metrics of the gateway's part of the session; none while the
   * connection is down or once the session has ended.
   */
  metrics(): Promise<NodeMetricsSnapshot[]> {
    if (!this.live) return Promise.resolve([]);
    const id = ++this.metricsCounter;
    return new Promise<NodeMetricsSnapshot[]>((resolve) => {
      // A drop before the answer: nothing to show this time.
      const timer = setTimeout(() => {
        this.metricsAsked.delete(id);
        resolve([]);
      }, 2000);
      this.metricsAsked.set(id, (nodes) => {
        clearTimeout(timer);
        resolve(nodes);
      });
      this.socket.send(JSON.stringify({ type: 'metrics', id } satisfies GatewayMessage));
    });
  }

  /** Ends the session from this side, at once. */
  abort(reason: string): void {
    this.fail(new RemoteMediaError('aborted', `Aborted: ${reason}`));
    this.socket.close(1000);
  }

  private sequenced(message: { type: 'end'; port: number } | { type: 'close' }): void {
    this.write(this.sent.next(this.resumable, (seq) => [JSON.stringify({ ...message, seq })]));
  }

  private write(messages: (Uint8Array | string)[]): void {
    if (!this.live) return; // kept in the replay log: resent on resume
    for (const message of messages) this.socket.send(message);
  }

  /**
   * A new socket: sends `first` once open and resolves with the answer (opened or
   * resumed); rejects on an error answer or a connection that fails before it.
   */
  private connect(first: GatewayMessage): Promise<Reply> {
    const Socket = this.options.WebSocket ?? globalThis.WebSocket;
    if (typeof Socket !== 'function') {
      throw new RemoteMediaError(
        'usage',
        `no WebSocket here to reach ${this.url}: pass { WebSocket } in the client options (on Node, 'remotemedia-web' brings the ws package's)`,
      );
    }
    // A resume names the gateway holding the session, so a balancer in front of
    // several gateways sends it there (remote-gateway/deploy/nginx.conf).
    const socket = new Socket(
      first.type === 'resume' && this.gatewayName
        ? `${this.url}?gateway=${encodeURIComponent(this.gatewayName)}`
        : this.url,
    );
    socket.binaryType = 'arraybuffer';
    this.socket = socket;
    this.assembler = new FrameAssembler(64 << 20);
    return new Promise<Reply>((resolve, reject) => {
      let answered = false;
      const answer = (outcome: () => void) => {
        if (answered) return false;
        answered = true;
        outcome();
        return true;
      };
      socket.onopen = () => socket.send(JSON.stringify(first));
      socket.onmessage = (event: MessageEvent) => {
        if (socket !== this.socket) return;
        try {
          if (typeof event.data !== 'string') return this.onBinary(event.data as ArrayBuffer);
          const message = parseGatewayMessage(event.data);
          if (message.type === 'opened' || message.type === 'resumed') {
            answer(() => resolve(message));
          } else if (message.type === 'error' && !answered) {
            answer(() => reject(RemoteMediaError.fromJSON(message.error)));
            this.fail(RemoteMediaError.fromJSON(message.error));
          } else this.onControl(message);
        } catch (error) {
          this.fail(asError(error));
          socket.close(1007);
        }
      };
      socket.onerror = () => {
        answer(() =>
          reject(
            unreachable(
              `cannot reach the gateway at ${this.url} (is it running, is this origin allowed, is it at its connection limit?)`,
            ),
          ),
        );
      };
      socket.onclose = (event: CloseEvent) => {
        const code = `code ${event.code}${event.reason ? `: ${event.reason}` : ''}`;
        if (
          answer(() =>
            reject(
              unreachable(
                `the gateway at ${this.url} closed the connection (${code}) before answering`,
              ),
            ),
          )
        ) {
          return;
        }
        const closed = new RemoteMediaError(
          'worker_lost',
          `the gateway connection closed (${code}) before the session ended`,
        );
        if (socket === this.socket) this.onDropped(closed);
      };
    });
  }

  private onBinary(bytes: ArrayBuffer): void {
    const whole = this.assembler.push(new Uint8Array(bytes));
    if (!whole) return;
    const { sequence, data } = decodeFrame(whole.frame);
    if (!this.take(sequence)) return;
    this.reading = this.reading.then(() => this.handlers.onOutput(whole.port, data));
    this.reading.catch((error: unknown) => this.fail(asError(error)));
  }

  private onControl(message: GatewayMessage): void {
    switch (message.type) {
      case 'credit': {
        this.granted[message.port] = this.granted[message.port]! + message.frames;
        this.wake(message.port);
        return;
      }
      case 'ack':
        this.sent.ack(message.seq);
        return;
      case 'draining':
        // The gateway shuts down once its sessions end: this one carries on meanwhile.
        return;
      case 'metrics':
        this.metricsAsked.get(message.id)?.(message.nodes ?? []);
        this.metricsAsked.delete(message.id);
        return;
      case 'end':
        if (this.take(message.seq)) {
          // After the outputs already received: keep the order of the stream.
          this.reading = this.reading.then(() => this.handlers.onOutputEnd(message.port));
        }
        return;
      case 'done':
        if (this.take(message.seq)) {
          this.finishing = true;
          this.reading = this.reading.then(() => {
            this.ended = true;
            this.live = false;
            this.settle.resolve();
          });
        }
        return;
      case 'error':
        if (message.seq === undefined || this.take(message.seq)) {
          this.fail(RemoteMediaError.fromJSON(message.error));
        }
        return;
      default:
        throw new RemoteMediaError('usage', `unexpected '${message.type}' from the gateway`);
    }
  }

  /** A numbered item from the gateway: true when new (repeats after a resume are dropped). */
  private take(seq: number): boolean {
    const fresh = this.received.take(seq);
    if (fresh && this.resumeKey && this.received.last % GATEWAY_ACK_EVERY === 0 && this.live) {
      this.socket.send(JSON.stringify({ type: 'ack', seq: this.received.last }));
    }
    return fresh;
  }

  /** The connection dropped mid-session: resume when allowed, else the session is lost. */
  private onDropped(closed: RemoteMediaError): void {
    this.live = false;
    if (this.ended || this.finishing || this.failure) return;
    if (!this.resumeKey) {
      void this.reading.then(() => this.fail(closed));
      return;
    }
    void this.resume(closed);
  }

  private async resume(closed: RemoteMediaError): Promise<void> {
    const windowMs = this.options.reconnectWindowMs ?? 20_000;
    const deadline = Date.now() + windowMs;
    for (let attempt = 0; !this.failure && Date.now() < deadline; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 50 * 2 ** attempt)));
      if (this.failure) return;
      try {
        const reply = await this.connect({
          type: 'resume',
          version: GATEWAY_PROTOCOL_VERSION,
          token: this.options.token,
          sessionId: this.sessionId,
          resumeKey: this.resumeKey!,
          received: this.received.last,
          maxMessageSize: this.localMax,
        });
        if (reply.type !== 'resumed') throw new RemoteMediaError('usage', 'expected "resumed"');
        this.maxMessageSize = Math.min(this.localMax, reply.maxMessageSize);
        reply.taken.forEach((taken, port) => (this.granted[port] = taken));
        for (const message of this.sent.after(reply.received)) this.socket.send(message);
        this.live = true;
        this.resumes++;
        this.waiting.forEach((_, port) => this.wake(port));
        return;
      } catch (error) {
        // The gateway answered that it cannot resume: no point in asking again.
        if (!(error instanceof RemoteMediaError && notReached.has(error))) {
          return this.fail(asError(error));
        }
      }
    }
    this.fail(
      new RemoteMediaError(
        'worker_lost',
        `${closed.message}, and resuming at ${this.url}${this.gatewayName ? ` (session ${this.sessionId} on gateway ${this.gatewayName})` : ''} did not succeed within ${windowMs} ms`,
      ),
    );
  }

  private wake(port: number): void {
    for (const wake of this.waiting[port]!.splice(0)) wake();
  }

  private fail(error: RemoteMediaError): void {
    if (this.failure || this.ended) return;
    this.failure = error;
    this.live = false;
    for (const waiting of this.waiting) for (const wake of waiting.splice(0)) wake();
    this.settle.reject(error);
  }
}

/** Errors of a connection that reached no gateway's answer: a resume tries again. */
const notReached = new WeakSet<RemoteMediaError>();

/**
 * No gateway answered: before a session exists this is the caller's setting to
 * check (address, port, TLS, origin), so `usage`; `worker_lost` is kept for a
 * session that was running and is lost.
 */
function unreachable(message: string): RemoteMediaError {
  const error = new RemoteMediaError('usage', message);
  notReached.add(error);
  return error;
}

function asError(error: unknown): RemoteMediaError {
  return error instanceof RemoteMediaError
    ? error
    : new RemoteMediaError('worker_lost', String((error as Error)?.message ?? error));
}
