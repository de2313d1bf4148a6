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
  NodeRegistry,
  PassThrough,
  type PipelineRunner,
  type PlacementPlan,
  type RemoteConfig,
  planPlacement,
  PreparedPipeline,
  validateManifest,
} from '../core/internal.ts';

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

  constructor(
    private readonly main: PipelineRunner,
    private readonly workerNames: ReadonlySet<string>,
    /** Validates a manifest against the worker's own registry (throws ManifestValidationError). */
    private readonly validateInWorker: (manifest: Manifest) => Promise<void>,
    /** PythonNode's definition: its params are checked here, before any Pyodide starts. */
    pythonNode: AnyNodeDefinition,
  ) {
    this.registry = main.registry.clone();
    if (!this.registry.has(pythonNode.type)) this.registry.register(pythonNode);
    for (const name of workerNames) {
      if (!this.registry.has(name)) this.registry.register(workerStandIn(name));
    }
    this.pythonNames = new Set([...createDefaultRegistry().names(), pythonNode.type]);
  }

  async plan(source: ManifestSource): Promise<RuntimePlan> {
    const manifest = this.pythonClassesAsNodes(
      source instanceof PreparedPipeline ? source.manifest : source,
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

  private placeOf(node: ManifestNode, index: number, issues: ManifestIssue[]): string {
    const onPage = this.main.registry.has(node.node_type);
    const inWorker = this.workerNames.has(node.node_type);
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
        return inPython
          ? remoteKey(node.remote!)
          : issue(
              `node type '${node.node_type}' does not run on the gateway; it runs the built-in nodes and PythonNode`,
            );
    }
  }
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
