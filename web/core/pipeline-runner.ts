/**
 * PipelineRunner: runs manifests in this thread. It is the engine behind every
 * transport — a browser worker, the gateway and the CLI each hold one. As in the
 * original, it runs with executeUnary and createStreamSession; the transports
 * around it (Runtime, RemoteProxyClient) offer PipelineTransport's execute and
 * stream. One name per way to run: no aliases.
 */
import type { Manifest } from './manifest.ts';
import { PreparedPipeline, validateManifest } from './manifest-validation.ts';
import type { AnyNodeDefinition } from './node-contract.ts';
import type { NodeRegistry } from './node-registry.ts';
import { createDefaultRegistry } from './nodes/builtin-nodes.ts';
import { PipelineSession, type PipelineSessionOptions } from './pipeline-session.ts';
import type { RuntimeData } from './runtime-data.ts';
import { canRunSynchronously, runSynchronously } from './sync-executor.ts';
import { onlyOutput, runThrough, type SessionOptions, type SessionOutput } from './transport.ts';

/** A manifest as an object, as JSON text, or already prepared by PipelineRunner.prepare. */
export type ManifestSource = Manifest | string | PreparedPipeline | Record<string, unknown>;

export interface PipelineRunnerOptions {
  /** Node types to use; defaults to the built-in nodes. */
  registry?: NodeRegistry;
  /** Extra node types added to the registry. */
  nodes?: readonly AnyNodeDefinition[];
}

/** How many manifest texts PipelineRunner keeps validated. */
const PREPARED_TEXT_CACHE = 64;

export class PipelineRunner {
  readonly registry: NodeRegistry;
  /**
   * Validated pipelines by manifest JSON text. Clients of the original API send the
   * same manifest text with every call (execute_pipeline(manifest_json)); text is
   * immutable, so reusing its validation is safe, unlike reusing it for an object.
   */
  private readonly preparedByText = new Map<string, PreparedPipeline>();

  constructor(options: PipelineRunnerOptions = {}) {
    this.registry = options.registry ?? createDefaultRegistry();
    for (const definition of options.nodes ?? []) this.registry.register(definition);
  }

  /** Validates a manifest once; the result runs many times without validating again. */
  prepare(manifest: ManifestSource): PreparedPipeline {
    if (manifest instanceof PreparedPipeline) return manifest;
    if (typeof manifest !== 'string') return validateManifest(manifest, this.registry);
    const cached = this.preparedByText.get(manifest);
    if (cached) return cached;
    const prepared = validateManifest(manifest, this.registry);
    if (this.preparedByText.size >= PREPARED_TEXT_CACHE) {
      this.preparedByText.delete(this.preparedByText.keys().next().value!);
    }
    this.preparedByText.set(manifest, prepared);
    return prepared;
  }

  async createStreamSession(
    manifest: ManifestSource,
    options: PipelineSessionOptions = {},
  ): Promise<PipelineSession> {
    return PipelineSession.start(this.prepare(manifest), options);
  }

  /**
   * Runs one input through the pipeline and returns its one output. A pipeline that
   * yields no output or several for that input is a `usage` error: use executeBatch
   * or a stream session for those.
   */
  async executeUnary(
    manifest: ManifestSource,
    input: RuntimeData,
    options: SessionOptions = {},
  ): Promise<RuntimeData> {
    return onlyOutput(
      await this.run(manifest, [input], options),
      'executeUnary',
      'executeBatch or createStreamSession',
    );
  }

  /**
   * Streams every input through one session and returns every output, in the order
   * the sinks produced them (the original's execute_pipeline_with_input).
   */
  async executeBatch(
    manifest: ManifestSource,
    inputs: Iterable<RuntimeData> | AsyncIterable<RuntimeData>,
    options: SessionOptions = {},
  ): Promise<RuntimeData[]> {
    return (await this.run(manifest, inputs, options)).map((o) => o.data);
  }

  /** Like executeBatch, with the sink node of each output. */
  async run(
    manifest: ManifestSource,
    inputs: Iterable<RuntimeData> | AsyncIterable<RuntimeData>,
    options: SessionOptions = {},
  ): Promise<SessionOutput[]> {
    const session = await PipelineSession.start(this.prepare(manifest), options);
    return runThrough(session, inputs);
  }

  /**
   * executeBatch without awaiting, for pipelines whose node types are all
   * synchronous (see NodeDefinition.synchronous; canExecuteSync tells); a `usage`
   * error otherwise. For callers to whom every await is costly, such as Python in
   * Pyodide.
   */
  executeBatchSync(manifest: ManifestSource, inputs: Iterable<RuntimeData>): RuntimeData[] {
    return runSynchronously(this.prepare(manifest), inputs).map((o) => o.data);
  }

  /** Whether executeBatchSync can run this pipeline. */
  canExecuteSync(manifest: ManifestSource): boolean {
    return canRunSynchronously(this.prepare(manifest));
  }
}
