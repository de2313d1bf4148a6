/**
 * Validates a manifest for the browser runtime and splits it into islands. Node
 * types live in two registries — the page's (executor "main") and the pipeline
 * worker's — so each side checks the params of its own nodes, on the whole
 * manifest, and every error keeps its path in the manifest the user wrote.
 */
import { z } from 'zod';
import {
  type AnyNodeDefinition,
  createDefaultRegistry,
  defineNode,
  type Manifest,
  type ManifestIssue,
  type ManifestNode,
  type ManifestSource,
  ManifestValidationError,
  formatPath,
  NodeRegistry,
  PassThrough,
  type PipelineRunner,
  type PlacementPlan,
  type RemoteConfig,
  planPlacement,
  PreparedPipeline,
  validateManifest,
} from '../core/internal.ts';
import { type PythonClassNodeType, SPEECH_NODE_TYPES } from '../core/nodes/speech/speech-nodes.ts';
import {
  type AddedEngines,
  browserEngineOf,
  browserEnginesFor,
} from './speech/browser-speech-engines.ts';

export const MAIN = 'main';
export const WORKER = 'worker';
export const PYTHON = 'python';

export interface RuntimePlan {
  readonly pipeline: PreparedPipeline;
  readonly placement: PlacementPlan;
  /** The gateway of each remote island, by island key. */
  readonly remotes: ReadonlyMap<string, RemoteConfig>;
}

/** Remote nodes for the same gateway run together, in one gateway session. */
export function remoteKey(remote: RemoteConfig): string {
  return `remote:${remote.ssl_enabled ? 'wss' : 'ws'}://${remote.host}:${remote.port}`;
}

export class RuntimePlanner {
  /** The page's node types plus stand-ins for the worker's, for whole-manifest checks. */
  private readonly registry: NodeRegistry;

  /** Types the Python worker runs: the built-ins and PythonNode. */
  private readonly pythonNames: ReadonlySet<string>;

  /** Types a gateway runs: the Python worker's plus the speech nodes (CPython engines). */
  private readonly gatewayNames: ReadonlySet<string>;

  constructor(
    private readonly main: PipelineRunner,
    private readonly workerNames: ReadonlySet<string>,
    /** Validates a manifest against the worker's own registry (throws ManifestValidationError). */
    private readonly validateInWorker: (manifest: Manifest) => Promise<void>,
    /** PythonNode's definition: its params are checked here, before any Pyodide starts. */
    pythonNode: AnyNodeDefinition,
    /** Speech engines the worker's node modules added, by node type (it reports them). */
    private readonly addedEngines: AddedEngines = {},
  ) {
    this.registry = main.registry.clone();
    if (!this.registry.has(pythonNode.type)) this.registry.register(pythonNode);
    // The speech nodes' params are checked here with their real schemas (paths such as
    // nodes[2].params.rate) wherever they run: registered before the worker's stand-ins.
    for (const declared of SPEECH_NODE_TYPES) {
      if (!this.registry.has(declared.type)) this.registry.register(gatewayStandIn(declared));
    }
    for (const name of workerNames) {
      if (!this.registry.has(name)) this.registry.register(workerStandIn(name));
    }
    this.pythonNames = new Set([...createDefaultRegistry().names(), pythonNode.type]);
    this.gatewayNames = new Set([...this.pythonNames, ...SPEECH_NODE_TYPES.map((t) => t.type)]);
  }

  async plan(source: ManifestSource): Promise<RuntimePlan> {
    const manifest = this.gatewayOnlyNodesToGateway(
      this.pythonClassesAsNodes(source instanceof PreparedPipeline ? source.manifest : source),
    );
    // Structure, ids, connections, cycles, known types, and the params of page nodes.
    const whole = validateManifest(manifest, this.registry);
    const issues: ManifestIssue[] = [];
    const place = whole.manifest.nodes.map((node, i) => this.placeOf(node, i, issues));
    if (issues.length > 0) throw new ManifestValidationError(issues);
    if (place.includes(WORKER)) {
      // The worker checks its nodes' params on the whole manifest, page nodes standing
      // in as PassThrough, so paths such as nodes[3].params.rate stay true.
      await this.validateInWorker({
        ...whole.manifest,
        nodes: whole.manifest.nodes.map((node, i) =>
          place[i] === WORKER ? node : { id: node.id, node_type: PassThrough.type, params: {} },
        ),
      });
    }
    const remotes = new Map<string, RemoteConfig>();
    whole.manifest.nodes.forEach((node, i) => {
      if (node.remote && place[i]!.startsWith('remote:')) remotes.set(place[i]!, node.remote);
    });
    return { pipeline: whole, placement: planPlacement(whole, (_, i) => place[i]!), remotes };
  }

  /**
   * A node with `"executor": "python"` (or `docker`) whose node_type names a Python class
   * (`"module:Class"`, or a class of remotemedia.nodes) becomes a PythonNode of that
   * class with its params: the manifest way to use Python classes by name.
   */
  private pythonClassesAsNodes(source: ManifestSource | Record<string, unknown>): unknown {
    let manifest: unknown = source;
    if (typeof source === 'string') {
      try {
        manifest = JSON.parse(source);
      } catch {
        return source; // validateManifest reports the syntax error with its position
      }
    }
    const nodes = (manifest as { nodes?: unknown }).nodes;
    if (!Array.isArray(nodes)) return manifest;
    return {
      ...(manifest as object),
      nodes: nodes.map((node: Partial<ManifestNode>) =>
        (node?.executor === PYTHON || node?.docker) &&
        typeof node.node_type === 'string' &&
        !this.pythonNames.has(node.node_type)
          ? {
              ...node,
              node_type: 'PythonNode',
              params: { class: node.node_type, params: node.params ?? {} },
            }
          : node,
      ),
    };
  }

  /**
   * The manifest's `"gateway": {"host", "port"}` is where nodes that run only on a
   * gateway go (the speech nodes without a browser engine for their params) when they
   * name no placement of their own. A bad `gateway` is reported at its own path.
   */
  private gatewayOnlyNodesToGateway(manifest: unknown): unknown {
    if (typeof manifest !== 'object' || manifest === null) return manifest;
    const { gateway, nodes } = manifest as { gateway?: unknown; nodes?: unknown };
    if (gateway === undefined || !Array.isArray(nodes)) return manifest;
    const parsed = gatewaySchema.safeParse(gateway);
    if (!parsed.success) {
      throw new ManifestValidationError(
        parsed.error.issues.map((issue) => ({
          code: 'invalid_placement',
          path: formatPath(['gateway', ...issue.path]),
          message: `${issue.message}; "gateway" is {"host": "127.0.0.1", "port": 8765} (the gateway that runs the nodes the browser cannot)`,
        })),
      );
    }
    return {
      ...manifest,
      nodes: nodes.map((node: Partial<ManifestNode>) =>
        node &&
        typeof node.node_type === 'string' &&
        node.executor === undefined &&
        node.remote === undefined &&
        this.runsOnlyOnGateway(node.node_type, node.params)
          ? { ...node, remote: parsed.data }
          : node,
      ),
    };
  }

  /** A speech node the worker has no engine for (by its `engine` param) runs on a gateway. */
  private runsOnlyOnGateway(type: string, params: unknown): boolean {
    if (!SPEECH_NODE_TYPES.some((t) => t.type === type)) return false;
    return (
      !this.workerNames.has(type) || browserEngineOf(type, params, this.addedEngines) === undefined
    );
  }

  private placeOf(node: ManifestNode, index: number, issues: ManifestIssue[]): string {
    const onPage = this.main.registry.has(node.node_type);
    const gatewayOnly = this.runsOnlyOnGateway(node.node_type, node.params);
    const inWorker = this.workerNames.has(node.node_type) && !gatewayOnly;
    const inPython = this.pythonNames.has(node.node_type);
    const executor = node.executor ?? (node.remote ? 'remote' : 'auto');
    const issue = (message: string, field = 'executor'): string => {
      issues.push({
        code: 'invalid_placement',
        path: `nodes[${index}].${field}`,
        nodeId: node.id,
        message,
      });
      return MAIN;
    };
    if (node.docker && (executor !== 'remote' || !node.remote)) {
      return issue(
        'a node with "docker" runs in a container on a gateway: give it "remote": {"host", "port"}',
        'docker',
      );
    }
    if (gatewayOnly && executor !== 'remote') {
      const engine = (node.params as { engine?: unknown }).engine;
      return issue(
        `node '${node.id}' (${node.node_type}${typeof engine === 'string' ? `, engine "${engine}"` : ''}) runs on a gateway, and the manifest names none: ` +
          `give the node "remote": {"host": "127.0.0.1", "port": 8765}, or the manifest "gateway": {"host", "port"}` +
          browserHint(node.node_type, this.addedEngines),
        executor === 'auto' ? 'remote' : 'executor',
      );
    }
    switch (executor) {
      case 'auto':
        return inWorker ? WORKER : inPython && !onPage ? PYTHON : MAIN;
      case 'worker':
        return inWorker
          ? WORKER
          : issue(
              `node type '${node.node_type}' is not available in the pipeline worker; use executor "main"`,
            );
      case 'main':
        return onPage
          ? MAIN
          : issue(
              `node type '${node.node_type}' is not registered on the page; pass it in createRuntime({ nodes }) or use executor "worker"`,
            );
      case 'python':
        return inPython
          ? PYTHON
          : issue(
              `node type '${node.node_type}' does not run in the Python worker; use a PythonNode ({"class": ...} or {"source": ...})`,
            );
      case 'remote':
        // The gateway runs the built-in nodes and PythonNode (in CPython).
        return this.gatewayNames.has(node.node_type)
          ? remoteKey(node.remote!)
          : issue(
              `node type '${node.node_type}' does not run on the gateway; it runs the built-in nodes, PythonNode, SpeechToText and TextToSpeech`,
            );
    }
  }
}

const gatewaySchema = z.looseObject({
  host: z.string().min(1),
  port: z.int().min(1).max(65535),
  ssl_enabled: z.boolean().optional(),
});

/** How to run the node in the browser instead, where it has a browser engine. */
function browserHint(type: string, added: AddedEngines): string {
  const engines = browserEnginesFor(type, added);
  return engines.length > 0
    ? `; or run it in the browser with "engine": ${engines.map((e) => `"${e}"`).join(' or ')}`
    : ' (it has no browser engine)';
}

/** The real params schema of a gateway node; creating it on the page is a bug. */
function gatewayStandIn(declared: PythonClassNodeType) {
  return defineNode({
    type: declared.type,
    params: declared.params,
    create: () => {
      throw new Error(
        `'${declared.type}' runs on a gateway or in the pipeline worker, not on the page`,
      );
    },
  });
}

/** Accepts any params: the worker checks them with the real schema. */
function workerStandIn(type: string) {
  return defineNode({
    type,
    params: z.record(z.string(), z.unknown()),
    create: () => {
      throw new Error(`'${type}' runs in the pipeline worker, not on the page`);
    },
  });
}
