/**
 * RemoteProxyClient: a PipelineTransport whose pipelines run entirely on a gateway
 * (the original SDK's name). For nodes placed on a gateway inside a browser
 * pipeline, use `remote` in the manifest instead; the runtime streams them there.
 */
import {
  buildGraph,
  iterateOutputs,
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
  type StreamSession,
} from '../../core/internal.ts';
import { END_OF_STREAM, NodeInbox } from '../../core/node-inbox.ts';
import { type GatewayClientOptions, GatewayConnection } from './gateway-connection.ts';

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
    const outputs = new NodeInbox<RuntimeData>(graph.sinks.length, options.queueCapacity ?? 32);
    const connection = await GatewayConnection.open(
      this.remote,
      {
        manifest: plain,
        inputs: [{ sources: [...graph.sources] }],
        outputs: graph.sinks.map((sink) => ({ sink })),
      },
      {
        onOutput: (port, data) => outputs.push(port, data),
        onOutputEnd: (port) => outputs.closeLane(port),
      },
      this.options,
    );
    return new RemoteSession(connection, outputs, graph.sinks, options.signal);
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

  constructor(
    private readonly connection: GatewayConnection,
    private readonly outputs: NodeInbox<RuntimeData>,
    private readonly sinks: readonly string[],
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

  async recvOutput(): Promise<SessionOutput | undefined> {
    let item = this.outputs.take();
    if (item instanceof Promise) item = await item;
    if (item === END_OF_STREAM) {
      await this.connection.done;
      return undefined;
    }
    return { nodeId: this.sinks[this.outputs.lastLane]!, data: item };
  }

  [Symbol.asyncIterator](): AsyncIterator<SessionOutput> {
    return iterateOutputs(this);
  }

  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.outputs.removeBound();
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
}
