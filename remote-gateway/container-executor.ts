/**
 * The container executor (the original's Docker executor): a node whose manifest
 * entry has `docker` runs the package's node runner inside a container,
 * `docker run -i --rm --network none` with memory and CPU limits, spoken to over
 * stdin/stdout exactly like a CPython process. Containers come from a warm pool
 * per image and resource class (container-pool.ts): each node gets a fresh runner
 * process in a container no one else uses meanwhile, reset between nodes. Nothing is
 * pulled or installed at run time: images are built ahead (container-image.ts) and
 * checked once for the Python version and packages a node asks for.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { z } from 'zod';
import {
  defineNode,
  type DockerConfig,
  type Manifest,
  type ManifestNode,
  RemoteMediaError,
} from '../web/core/internal.ts';
import { pythonNodeParams } from '../web/python/python-node-params.ts';
import { DEFAULT_IMAGE, PYTHON_LABEL } from './container-image.ts';
import { ContainerPool } from './container-pool.ts';
import {
  checkContainerCeilings,
  type ContainerCeilings,
  containerCeilings,
} from './gateway-limits.ts';
import { PythonProcess, runnerNode } from './python-process.ts';
import { withoutGatewaySecrets } from './python-sandbox.ts';

const execFileAsync = promisify(execFile);

/** The node type a `docker` entry becomes on the gateway. */
export const CONTAINER_NODE = 'ContainerPythonNode';

export interface ContainerExecutorOptions extends ContainerCeilings {
  /** The docker CLI. Default "docker". */
  docker?: string;
  /** The engine's address (DOCKER_HOST), such as unix:///run/docker.sock. Default: the CLI's. */
  host?: string;
  /** The image of nodes that name none. Default remotemedia-python:latest. */
  defaultImage?: string;
  /** Memory of a node that sets no limit. Default 512 MiB. */
  defaultMemoryMb?: number;
  /** CPUs of a node that sets no limit. Default 1. */
  defaultCpuCores?: number;
  /** A call running longer kills its container. Default 30 s. */
  callTimeoutMs?: number;
  /** Unpickle Python objects sent by authenticated clients. Default false. */
  allowPickle?: boolean;
  /** Told when a container dies (or is killed) under a node: for logs and metrics. */
  onWorkerLost?: (error: RemoteMediaError) => void;
  /**
   * An idle pooled container is removed after this long (`--container-idle-ms`).
   * Default 60 s; 0 keeps none (every node waits for a container of its own).
   */
  idleTimeoutMs?: number;
  /** Idle containers kept per image and resource class. Default 4. */
  maxIdlePerClass?: number;
}

/**
 * Routes every node that asks for a container to the container executor. A
 * PythonNode keeps its params; any other node_type names a Python class
 * ("module:Class"), as with executor "python".
 */
export function routeContainers(manifest: Manifest): Manifest {
  // Not validated yet: anything malformed is left for the validation to report.
  if (!Array.isArray(manifest?.nodes) || !manifest.nodes.some((node) => node?.docker)) {
    return manifest;
  }
  return {
    ...manifest,
    nodes: manifest.nodes.map((node): ManifestNode => {
      if (!node?.docker) return node;
      const spec =
        node.node_type === 'PythonNode'
          ? node.params
          : { class: node.node_type, params: node.params ?? {} };
      return {
        ...node,
        node_type: CONTAINER_NODE,
        params: { node: spec, docker: node.docker },
      };
    }),
  };
}

export class ContainerExecutor {
  private readonly options: Required<Omit<ContainerExecutorOptions, keyof ContainerCeilings>>;
  /** What a manifest may ask for: images, memory, CPUs (a node may ask for less). */
  readonly ceilings: Required<ContainerCeilings>;
  /** Image checks by image + wanted version + packages: each is asked once. */
  private readonly checked = new Map<string, Promise<void>>();
  /** Warm containers per image and resource class, lent one node at a time. */
  readonly pool: ContainerPool;

  /** The environment of every docker command: ours, with the engine's address when set. */
  private readonly env: NodeJS.ProcessEnv;

  constructor(options: ContainerExecutorOptions = {}) {
    this.options = {
      docker: options.docker ?? 'docker',
      host: options.host ?? '',
      defaultImage: options.defaultImage ?? DEFAULT_IMAGE,
      defaultMemoryMb: options.defaultMemoryMb ?? 512,
      defaultCpuCores: options.defaultCpuCores ?? 1,
      callTimeoutMs: options.callTimeoutMs ?? 30_000,
      allowPickle: options.allowPickle ?? false,
      onWorkerLost: options.onWorkerLost ?? (() => {}),
      idleTimeoutMs: options.idleTimeoutMs ?? 60_000,
      maxIdlePerClass: options.maxIdlePerClass ?? 4,
    };
    this.ceilings = containerCeilings(options, this.options.defaultImage, {
      memoryMb: this.options.defaultMemoryMb,
      cpuCores: this.options.defaultCpuCores,
    });
    // The docker CLI needs ours (HOME, DOCKER_*), but never the gateway's tokens or secret.
    const env = withoutGatewaySecrets();
    this.env = options.host ? { ...env, DOCKER_HOST: options.host } : env;
    this.pool = new ContainerPool({
      docker: this.options.docker,
      env: this.env,
      run: (args) => this.run(args),
      idleTimeoutMs: this.options.idleTimeoutMs,
      maxIdlePerClass: this.options.maxIdlePerClass,
      callTimeoutMs: this.options.callTimeoutMs,
      allowPickle: this.options.allowPickle,
      onWorkerLost: (error) => this.options.onWorkerLost(error),
    });
  }

  private run(args: string[]) {
    return execFileAsync(this.options.docker, args, { env: this.env });
  }

  nodeDefinition() {
    return defineNode({
      type: CONTAINER_NODE,
      description:
        'Runs a Python Node class in a container (docker run --network none, memory and CPU limits).',
      params: z.strictObject({
        node: pythonNodeParams,
        docker: z.looseObject({}).transform((d) => d as DockerConfig),
      }),
      create: (params, context) => {
        // Before anything starts: a manifest may ask for less than the ceilings, never more.
        checkContainerCeilings(
          context.nodeId,
          params.docker,
          this.ceilings,
          this.options.defaultImage,
        );
        return runnerNode(params.node, context, {
          start: () => this.start(context.nodeId, params.docker),
          done: (process) => this.pool.release(process),
          allowPickle: this.options.allowPickle,
        });
      },
    });
  }

  /**
   * Every container node of a routed manifest against the ceilings, when the session
   * opens (before validation: malformed entries are left for it to report).
   */
  checkManifest(manifest: Manifest): void {
    if (!Array.isArray(manifest?.nodes)) return;
    manifest.nodes.forEach((node, index) => {
      if (node?.node_type !== CONTAINER_NODE) return;
      const docker = (node.params as { docker?: DockerConfig } | undefined)?.docker;
      if (docker && typeof docker === 'object') {
        checkContainerCeilings(
          String(node.id),
          docker,
          this.ceilings,
          this.options.defaultImage,
          `nodes[${index}].docker`,
        );
      }
    });
  }

  /** Containers running a node now, by name (for tests and /metrics; idle ones: `pool`). */
  get containers(): ReadonlyMap<string, PythonProcess> {
    return this.pool.inUse;
  }

  /** Removes every container this executor started. */
  close(): Promise<void> {
    return this.pool.close();
  }

  private async start(nodeId: string, docker: DockerConfig): Promise<PythonProcess> {
    const image = docker.image ?? this.options.defaultImage;
    await this.check(nodeId, image, docker);
    return this.pool.acquire(nodeId, {
      image,
      memoryMb: docker.resource_limits?.memory_mb ?? this.options.defaultMemoryMb,
      cpus: docker.resource_limits?.cpu_cores ?? this.options.defaultCpuCores,
    });
  }

  /** Is the engine reachable, does the image exist, does it hold what the node asks for? */
  private check(nodeId: string, image: string, docker: DockerConfig): Promise<void> {
    const packages = docker.python_packages ?? [];
    const key = JSON.stringify([image, docker.python_version, packages]);
    let checking = this.checked.get(key);
    if (!checking) {
      checking = this.inspect(nodeId, image, docker.python_version, packages);
      this.checked.set(key, checking);
      // A failed check is asked again next time: the operator may have fixed it.
      checking.catch(() => this.checked.delete(key));
    }
    return checking;
  }

  private async inspect(
    nodeId: string,
    image: string,
    pythonVersion: string | undefined,
    packages: readonly string[],
  ): Promise<void> {
    const fail = (message: string) =>
      new RemoteMediaError('usage', `Node '${nodeId}': ${message}`, { nodeId });
    let labels: Record<string, string> | null;
    try {
      const { stdout } = await this.run([
        'image',
        'inspect',
        '--format',
        '{{json .Config.Labels}}',
        image,
      ]);
      labels = JSON.parse(stdout) as Record<string, string> | null;
    } catch (error) {
      const stderr = String((error as { stderr?: string }).stderr ?? (error as Error).message);
      if (/no such image/i.test(stderr)) {
        throw fail(
          `the container image '${image}' is not on this machine; build it with \`npm run gateway:image\` (no registry is used at run time)`,
        );
      }
      throw fail(
        `no Docker engine is reachable to run its container (${stderr.trim().split('\n').pop()}); start dockerd or remove "docker" from the node`,
      );
    }
    const python = labels?.[PYTHON_LABEL];
    if (pythonVersion !== undefined && python !== pythonVersion) {
      throw fail(
        `docker.python_version "${pythonVersion}" is not what image '${image}' holds (${python ?? 'unknown'})`,
      );
    }
    if (packages.length === 0) return;
    // Import names from requirement strings: "torch>=2.0" -> torch, "scikit-learn" -> scikit_learn.
    const modules = packages.map((p) => p.split(/[<>=!~[ ;]/)[0]!.replace(/-/g, '_'));
    const probe =
      'import importlib.util, sys; print(" ".join(m for m in sys.argv[1:] if importlib.util.find_spec(m) is None))';
    const { stdout } = await this.run([
      'run',
      '--rm',
      '--network',
      'none',
      image,
      'python3',
      '-c',
      probe,
      ...modules,
    ]);
    const missing = stdout.trim().split(/\s+/).filter(Boolean);
    if (missing.length > 0) {
      throw fail(
        `docker.python_packages: ${missing.join(', ')} not importable in image '${image}'; packages are never installed at run time here, so build an image that holds them`,
      );
    }
  }
}
