/**
 * One remote session on one WebSocket: the client's island runs in a
 * PipelineSession here; its input ports feed source nodes, its sinks send to the
 * output ports. Inputs are taken in order and acknowledged with credit; outputs wait
 * while the socket's send buffer is full.
 */
import type WebSocket from 'ws';
import {
  decodeFrame,
  encodeFrame,
  FrameAssembler,
  GATEWAY_WINDOW,
  type GatewayMessage,
  type NodeMetricsSnapshot,
  packFrame,
  type PipelineRunner,
  type PipelineSession,
  RemoteMediaError,
  type RemoteIslandSpec,
  type SinkPort,
} from '../web/core/index.ts';
import type { GatewayMetrics } from './metrics.ts';

/** Bytes queued on the socket before a sink waits. */
const SEND_HIGH_WATER = 4 << 20;

export interface SessionLimits {
  maxMessageSize: number;
  maxFrameBytes: number;
  idleTimeoutMs: number;
}

export class GatewaySession {
  readonly ended: Promise<void>;
  private session: PipelineSession | undefined;
  private readonly assembler: FrameAssembler;
  private chain: Promise<void> = Promise.resolve();
  private readonly credit: number[];
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  private finished = false;

  private constructor(
    private readonly socket: WebSocket,
    private readonly spec: RemoteIslandSpec,
    private readonly limits: SessionLimits,
    private readonly counters: GatewayMetrics,
    private readonly clientMaxMessage: number,
  ) {
    this.assembler = new FrameAssembler(limits.maxFrameBytes);
    this.credit = spec.inputs.map(() => 0);
    this.ended = new Promise((resolve) => {
      if (socket.readyState === socket.CLOSED) resolve();
      else socket.once('close', () => resolve());
    });
  }

  static async open(
    socket: WebSocket,
    runner: PipelineRunner,
    spec: RemoteIslandSpec,
    limits: SessionLimits,
    metrics: GatewayMetrics,
    clientMaxMessage: number,
  ): Promise<GatewaySession> {
    const gateway = new GatewaySession(socket, spec, limits, metrics, clientMaxMessage);
    const sinkPorts = new Map<string, SinkPort>(
      spec.outputs.map(({ sink }, port) => [
        sink,
        {
          push: (data) => gateway.sendFrame(port, data),
          end: () => gateway.control({ type: 'end', port }),
        },
      ]),
    );
    gateway.session = await runner.createStreamSession(spec.manifest, { sinkPorts });
    gateway.touch();
    void gateway.session.ended().then(
      () => gateway.finish({ type: 'done' }, 1000),
      (error: unknown) => gateway.fail(error),
    );
    return gateway;
  }

  /** The session's per-node metrics, for /metrics. */
  metrics(): Promise<NodeMetricsSnapshot[]> {
    return this.session?.metrics() ?? Promise.resolve([]);
  }

  get sessionId(): string {
    return this.session!.sessionId;
  }

  /** A binary message from the client: (part of) an input frame. */
  onData(message: Uint8Array): void {
    this.touch();
    this.counters.framesIn++;
    this.counters.bytesIn += message.length;
    const whole = this.assembler.push(message);
    if (!whole) return;
    const { port, frame } = whole;
    const input = this.spec.inputs[port];
    if (!input) throw new RemoteMediaError('usage', `input port ${port} does not exist`);
    const data = decodeFrame(frame).data;
    // In order, one at a time: the session's own backpressure paces the client.
    this.chain = this.chain.then(async () => {
      for (const source of input.sources) await this.session!.sendInputTo(source, data);
      if (++this.credit[port]! >= GATEWAY_WINDOW / 2) {
        this.control({ type: 'credit', port, frames: this.credit[port]! });
        this.credit[port] = 0;
      }
    });
    this.chain.catch((error: unknown) => this.fail(error));
  }

  onControl(message: GatewayMessage): void {
    this.touch();
    if (message.type === 'end') {
      const input = this.spec.inputs[message.port];
      if (!input) throw new RemoteMediaError('usage', `input port ${message.port} does not exist`);
      this.chain = this.chain.then(() => {
        for (const source of input.sources) this.session!.endInput(source);
      });
    } else if (message.type === 'close') {
      this.chain = this.chain.then(() => this.session!.close().catch(() => {}));
    } else {
      throw new RemoteMediaError('usage', `'${message.type}' is not a client message in a session`);
    }
  }

  /** The client went away (or the gateway closes): the session ends now. */
  abort(reason: string): void {
    this.session?.abort(new RemoteMediaError('aborted', `Aborted: ${reason}`));
    this.finished = true;
    clearTimeout(this.idleTimer);
  }

  fail(error: unknown): void {
    const typed =
      error instanceof RemoteMediaError
        ? error
        : new RemoteMediaError('usage', String((error as Error)?.message ?? error));
    this.counters.countError(typed.kind);
    this.session?.abort(typed);
    this.finish(
      { type: 'error', error: typed.toJSON() },
      typed.kind === 'frame_codec' ? 1007 : 1011,
    );
  }

  private finish(message: GatewayMessage, code: number): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.idleTimer);
    this.control(message);
    this.socket.close(code);
  }

  private control(message: GatewayMessage): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(JSON.stringify(message));
  }

  private sendFrame(
    port: number,
    data: Parameters<SinkPort['push']>[0],
  ): Promise<void> | undefined {
    if (this.socket.readyState !== this.socket.OPEN) {
      return Promise.reject(new RemoteMediaError('aborted', 'the client connection closed'));
    }
    for (const part of packFrame(port, encodeFrame({ sequence: 0, data }), this.clientMaxMessage)) {
      this.socket.send(part);
      this.counters.framesOut++;
      this.counters.bytesOut += part.length;
    }
    if (this.socket.bufferedAmount < SEND_HIGH_WATER) return undefined;
    return new Promise((resolve) => {
      const check = () => {
        if (this.socket.bufferedAmount < SEND_HIGH_WATER / 2 || this.finished) resolve();
        else setTimeout(check, 2);
      };
      check();
    });
  }

  private touch(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(
      () =>
        this.fail(
          new RemoteMediaError(
            'aborted',
            `the session was idle for ${this.limits.idleTimeoutMs} ms (no message from the client)`,
          ),
        ),
      this.limits.idleTimeoutMs,
    );
  }
}
