/**
 * RemoteProxyClient: a PipelineTransport whose pipelines run entirely on a gateway
 * (the original SDK's name). For nodes placed on a gateway inside a browser
 * pipeline, use `remote` in the manifest instead; the runtime streams them there.
 */
import {
  buildGraph,
  type Manifest,
  type ManifestSource,
  type NodeMetricsSnapshot,
  type PipelineTransport,
  PreparedPipeline,
  type RemoteConfig,
  RemoteMediaError,
  type RuntimeData,
  onlyOutput,
  runThrough,
  type SessionOptions,
  type SessionOutput,
  SessionOutputQueue,
  type StreamSession,
} from '../../core/internal.ts';
import {
  type GatewayClientOptions,
  GatewayConnection,
  type RestartedEvent,
} from './gateway-connection.ts';

export class RemoteProxyClient implements PipelineTransport {
  constructor(
    private readonly remote: RemoteConfig,
    private readonly options: GatewayClientOptions,
  ) {}

  async stream(manifest: ManifestSource, options: SessionOptions = {}): Promise<RemoteSession> {
    const plain = (
      manifest instanceof PreparedPipeline
        ? manifest.manifest
        : typeof manifest === 'string'
          ? JSON.parse(manifest)
          : manifest
    ) as Manifest;
    const graph = buildGraph(
      plain.nodes.map((n) => n.id),
      plain.connections ?? [],
    );
    // The end is the gateway's `done` (after every output), or the session's error.
    const outputs = new SessionOutputQueue(graph.sinks, {
      capacity: options.queueCapacity,
      settle: () => connection.done,
    });
    const connection = await GatewayConnection.open(
      this.remote,
      {
        manifest: plain,
        inputs: [{ sources: [...graph.sources] }],
        outputs: graph.sinks.map((sink) => ({ sink })),
      },
      {
        onOutput: (port, data) => outputs.push(port, data),
        onOutputEnd: (port) => outputs.endLane(port),
        // Only after `open`, so the session below exists by then.
        onRestarted: (event) => session.restarted(event),
      },
      this.options,
    );
    const session = new RemoteSession(connection, outputs, options.signal);
    return session;
  }

  async run(
    manifest: ManifestSource,
    inputs: Iterable<RuntimeData> | AsyncIterable<RuntimeData>,
    options: SessionOptions = {},
  ): Promise<SessionOutput[]> {
    return runThrough(await this.stream(manifest, options), inputs);
  }

  async execute(
    manifest: ManifestSource,
    input: RuntimeData,
    options: SessionOptions = {},
  ): Promise<RuntimeData> {
    return onlyOutput(await this.run(manifest, [input], options), 'execute', 'run or stream');
  }
}

export class RemoteSession implements StreamSession {
  private closed = false;
  private error: RemoteMediaError | undefined;
  /** Every restart of this session's island (with `restartOnLoss`), in order. */
  readonly restarts: RestartedEvent[] = [];
  private readonly restartListeners: ((event: RestartedEvent) => void)[] = [];

  constructor(
    private readonly connection: GatewayConnection,
    private readonly outputs: SessionOutputQueue,
    signal?: AbortSignal,
  ) {
    connection.done.catch((error: RemoteMediaError) => {
      this.error = error;
      outputs.fail(error);
    });
    signal?.addEventListener('abort', () => this.abort(signal.reason), { once: true });
  }

  get sessionId(): string {
    return 'remote';
  }

  async sendInput(data: RuntimeData): Promise<void> {
    if (this.error) throw this.error;
    if (this.closed) throw new RemoteMediaError('session_closed', 'the session input has ended');
    const waiting = this.connection.send(0, data);
    if (waiting) await waiting;
  }

  recvOutput(): Promise<SessionOutput | undefined> {
    return this.outputs.next();
  }

  [Symbol.asyncIterator](): AsyncIterator<SessionOutput> {
    return this.outputs[Symbol.asyncIterator]();
  }

  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.outputs.unbound();
      this.connection.endInput(0);
    }
    await this.connection.done;
  }

  isActive(): boolean {
    return this.error === undefined && !this.closed;
  }

  abort(reason?: unknown): void {
    this.connection.abort(String((reason as Error)?.message ?? reason ?? 'aborted'));
  }

  /** The per-node metrics of the session, asked of the gateway. */
  metrics(): Promise<NodeMetricsSnapshot[]> {
    return this.connection.metrics();
  }

  /** Told when the island was lost with its gateway and restarted on another (restartOnLoss). */
  on(type: 'restarted', listener: (event: RestartedEvent) => void): this {
    if (type !== 'restarted') throw new RemoteMediaError('usage', `no '${String(type)}' event`);
    this.restartListeners.push(listener);
    return this;
  }

  /** @internal From the connection. */
  restarted(event: RestartedEvent): void {
    this.restarts.push(event);
    for (const listener of this.restartListeners) listener(event);
  }
}
