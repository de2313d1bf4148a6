/**
 * The browser runtime: `createRuntime()` starts a pipeline worker and runs
 * manifests split into islands — nodes for the worker run there, nodes marked
 * `executor: "main"` (or known only to the page) run on the page — linked by ring
 * channels on SharedArrayBuffer, or by MessagePorts where the page is not
 * cross-origin isolated. Control goes over comlink.
 */
import { proxy, type Remote, transfer } from 'comlink';
import {
  type AnyNodeDefinition,
  type ManifestSource,
  PipelineRunner,
  RemoteMediaError,
  type RuntimeData,
  onlyOutput,
  runThrough,
  type PipelineTransport,
  type RemoteConfig,
  type SessionOutput,
} from '../core/internal.ts';
import { platform } from '../platform.ts';
import { type ChannelMode, type ChannelOptions, transferablesOf } from './channel/channel.ts';
import type { PythonLoadStage } from '../python/python-runtime.ts';
import { PYTHON_NODE, PythonWorker } from './python-worker-link.ts';
import { MAIN, PYTHON, RuntimePlanner, WORKER } from './runtime-planner.ts';
import type { AddedEngines } from './speech/browser-speech-engines.ts';
import {
  type IslandRunner,
  localIslandRunner,
  RuntimeSession,
  type RuntimeStreamOptions,
} from './runtime-session.ts';
import {
  adoptAssetsBase,
  resolveAssetsBase,
  resolveNodeModules,
  type WorkerConfig,
} from './assets.ts';
import { defaultPipelineWorker, type PipelineWorkerApi, WorkerLink } from './worker-link.ts';
import type { RemoteIslandRestart } from './remote/remote-island.ts';

export interface RuntimeOptions {
  /** Node types for the page (executor "main"), beside the built-in nodes. */
  nodes?: readonly AnyNodeDefinition[];
  /**
   * URLs of ES modules whose default export (or `nodes` export) is an array of node
   * definitions: the pipeline worker imports them, so their nodes run off the main
   * thread beside the built-ins. Each must be one file the browser can import
   * (bundle it if it imports packages); the CLI and the gateway take the same
   * module with `--nodes`. See docs/embedding.md.
   */
  nodeModules?: readonly (string | URL)[];
  /**
   * Where the runtime's assets folder is served (Pyodide, onnxruntime's wasm, the
   * Silero models; the package ships it as dist/browser/). Default: the prebuilt
   * build's own folder, else `remotemedia-web/` beside the page. See assets.ts.
   */
  assetsBase?: string | URL;
  /** Makes the pipeline worker; the default starts this package's. */
  createWorker?: () => Worker;
  /**
   * How islands are linked: "rings" (SharedArrayBuffer, needs cross-origin
   * isolation), "messages" (transferable postMessage) or "auto" (rings when possible).
   */
  channels?: 'auto' | ChannelMode;
  /** Ring size, overrun policy and message window of every channel. */
  channel?: ChannelOptions;
  /** How to reach gateways that run nodes marked `remote` (see remote-gateway/). */
  gateway?: { token: string };
  /** The Python worker (Pyodide), started when a pipeline first needs it. */
  python?: {
    /** Makes the Python worker; the default starts this package's. */
    createWorker?: () => Worker;
    /**
     * A Python call running longer than this is interrupted (KeyboardInterrupt)
     * and fails its session. Default 30 000 ms.
     */
    callDeadlineMs?: number;
  };
}

let warnedNotIsolated = false;

/** Starts a runtime: its pipeline worker is running when the promise resolves. */
export async function createRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  const runtime = new Runtime(options);
  await runtime.ready();
  return runtime;
}

export class Runtime implements PipelineTransport {
  /** How this runtime's channels cross threads. */
  readonly channelMode: ChannelMode;
  private readonly main: PipelineRunner;
  private link: WorkerLink | undefined;
  private planner: RuntimePlanner | undefined;
  private starting: Promise<WorkerLink> | undefined;
  private readonly python: PythonWorker;
  private disposed = false;
  private readonly sessions = new Set<RuntimeSession>();
  private readonly workerConfig: WorkerConfig;

  constructor(private readonly options: RuntimeOptions = {}) {
    this.main = new PipelineRunner({ nodes: options.nodes });
    this.channelMode = chooseChannels(options.channels ?? 'auto');
    this.workerConfig = {
      assetsBase: resolveAssetsBase(options.assetsBase),
      nodeModules: resolveNodeModules(options.nodeModules),
    };
    if (options.assetsBase !== undefined) adoptAssetsBase(this.workerConfig.assetsBase);
    this.python = new PythonWorker({
      ...options.python,
      assetsBase: this.workerConfig.assetsBase,
    });
  }

  /**
   * Starts the Python worker now (it starts on first use otherwise) and resolves
   * with Pyodide's start-up time in ms, 0 if it was already warm.
   */
  warmPython(onProgress?: (stage: PythonLoadStage, fraction: number) => void): Promise<number> {
    return this.python.warm(onProgress);
  }

  /** Resolves once the pipeline worker runs (it is restarted if it was lost). */
  /**
   * Hot swap: the running PythonNode `nodeId` continues with a Python object made
   * from `params` (new `source` or `class`), without restarting its session or its
   * audio. If the new code does not load, the old keeps running and this rejects
   * with the reason. Resolves with the number of running instances updated.
   */
  updatePythonNode(
    nodeId: string,
    params: { source?: string; class?: string; params?: Record<string, unknown> },
  ): Promise<number> {
    return this.python.updateNode(nodeId, params);
  }

  async ready(): Promise<void> {
    await this.worker();
  }

  /** Node types the pipeline can use, on the page and in the worker. */
  async nodeTypes(): Promise<string[]> {
    const link = await this.worker();
    const inWorker = await link.call(link.host.nodeTypes());
    return [...new Set([...inWorker, ...this.main.registry.types()])];
  }

  /** Throws ManifestValidationError (with paths) when the manifest cannot run here. */
  async validate(manifest: ManifestSource): Promise<void> {
    await this.planFor(manifest);
  }

  async stream(
    manifest: ManifestSource,
    options: RuntimeStreamOptions = {},
  ): Promise<RuntimeSession> {
    const plan = await this.planFor(manifest);
    const link = await this.worker();
    const runners = new Map<string, IslandRunner>([
      [MAIN, localIslandRunner(this.main)],
      [WORKER, workerIslandRunner(link)],
    ]);
    if (plan.placement.islands.some((island) => island.key === PYTHON)) {
      runners.set(PYTHON, await this.python.islandRunner());
    }
    for (const [key, remote] of plan.remotes) {
      const token = options.gatewayToken ?? this.options.gateway?.token;
      if (token === undefined) {
        throw new RemoteMediaError(
          'usage',
          `the pipeline has nodes on the gateway at ${remote.host}:${remote.port}: pass createRuntime({ gateway: { token } }) or stream(manifest, { gatewayToken })`,
        );
      }
      runners.set(
        key,
        remoteIslandRunner(link, remote, token, {
          restartOnLoss: options.restartOnLoss,
          maxRestarts: options.maxRestarts,
          reconnectWindowMs: options.reconnectWindowMs,
          livenessTimeoutMs: options.livenessTimeoutMs,
        }),
      );
    }
    const session = await RuntimeSession.start(plan, runners, {
      ...options,
      channels: this.channelMode,
      channel: this.options.channel,
    });
    this.sessions.add(session);
    void session.whenEnded().then(() => this.sessions.delete(session));
    return session;
  }

  /** Runs every input through one session; every output with its sink node. */
  async run(
    manifest: ManifestSource,
    inputs: Iterable<RuntimeData> | AsyncIterable<RuntimeData>,
    options: RuntimeStreamOptions = {},
  ): Promise<SessionOutput[]> {
    return runThrough(await this.stream(manifest, options), inputs);
  }

  /** Runs one input and returns the pipeline's one output (a `usage` error otherwise). */
  async execute(
    manifest: ManifestSource,
    input: RuntimeData,
    options: RuntimeStreamOptions = {},
  ): Promise<RuntimeData> {
    return onlyOutput(await this.run(manifest, [input], options), 'execute', 'run or stream');
  }

  /** Stops the worker and ends every session (their calls reject with `session_closed`). */
  dispose(): void {
    this.disposed = true;
    for (const session of this.sessions) {
      session.abort(new RemoteMediaError('session_closed', 'The runtime was disposed'));
    }
    this.sessions.clear();
    this.link?.terminate();
    this.link = undefined;
    this.python.dispose();
  }

  private async planFor(manifest: ManifestSource) {
    await this.worker();
    return this.planner!.plan(manifest);
  }

  /** The running worker; a lost one is replaced for the sessions that come after. */
  private async worker(): Promise<WorkerLink> {
    if (this.disposed) throw new RemoteMediaError('session_closed', 'The runtime was disposed');
    if (this.link?.alive) return this.link;
    this.starting ??= (async () => {
      const worker =
        this.options.createWorker?.() ?? defaultPipelineWorker(this.workerConfig.assetsBase);
      const link = await WorkerLink.start(worker, 'pipeline');
      let addedEngines: AddedEngines | void;
      try {
        addedEngines = await link.call<AddedEngines | void>(
          (link.host as unknown as Remote<PipelineWorkerApi>).configure(this.workerConfig),
        );
      } catch (error) {
        // A node module that does not load: this worker is of no use, end it.
        link.terminate();
        throw error;
      }
      const names = new Set(await link.call(link.host.nodeNames()));
      this.planner = new RuntimePlanner(
        this.main,
        names,
        (m) => link.call(link.host.validate(m)),
        PYTHON_NODE,
        addedEngines ?? {},
      );
      this.link = link;
      return link;
    })().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }
}

export function workerIslandRunner(link: WorkerLink): IslandRunner {
  return {
    async start(spec, endpoints, onBargeIn) {
      const id = await link.call(
        link.host.openIsland(
          transfer(spec, transferablesOf(endpoints)),
          onBargeIn ? proxy(onBargeIn) : undefined,
        ),
      );
      return {
        done: link.call(link.host.islandDone(id)),
        abort: (reason) => {
          if (link.alive) void link.host.abortIsland(id, reason);
        },
        metrics: () => link.call(link.host.islandMetrics(id)),
        interrupt: (timestampUs) => {
          if (link.alive) link.host.interruptIsland(id, timestampUs).catch(() => {});
        },
      };
    },
  };
}

/** A remote island: the pipeline worker streams its channels to the gateway. */
function remoteIslandRunner(
  link: WorkerLink,
  remote: RemoteConfig,
  token: string,
  restart: RemoteIslandRestart,
): IslandRunner {
  return {
    async start(spec, endpoints, _onBargeIn, onRestarted) {
      const id = await link.call(
        link.host.openRemoteIsland(
          transfer(spec, transferablesOf(endpoints)),
          remote,
          token,
          restart,
          // A restart happens in the worker; the session hears of it here.
          onRestarted ? proxy(onRestarted) : undefined,
        ),
      );
      return {
        done: link.call(link.host.islandDone(id)),
        abort: (reason) => {
          if (link.alive) void link.host.abortIsland(id, reason);
        },
        metrics: () => link.call(link.host.islandMetrics(id)),
        interrupt: (timestampUs) => {
          if (link.alive) link.host.interruptIsland(id, timestampUs).catch(() => {});
        },
      };
    },
  };
}

function chooseChannels(wanted: 'auto' | ChannelMode): ChannelMode {
  if (wanted === 'messages') return 'messages';
  if (platform.sharedArrayBuffer) return 'rings';
  if (wanted === 'rings') {
    throw new RemoteMediaError(
      'usage',
      'channels "rings" need SharedArrayBuffer: serve the page with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp, or use channels "auto"',
    );
  }
  if (!warnedNotIsolated) {
    warnedNotIsolated = true;
    console.warn(
      'RemoteMedia: this page is not cross-origin isolated, so SharedArrayBuffer is unavailable; ' +
        'threads are linked by postMessage instead of ring buffers (higher latency). ' +
        'Serve it with COOP: same-origin and COEP: require-corp to use rings.',
    );
  }
  return 'messages';
}
