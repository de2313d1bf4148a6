/**
 * What a pipeline worker exposes over comlink: its node types, validation, and the
 * islands of runtime sessions it runs (see runtime.ts), addressed by island id.
 */
import {
  type AnyNodeDefinition,
  type ManifestSource,
  type NodeMetricsSnapshot,
  PipelineRunner,
  type PipelineRunnerOptions,
  type RemoteConfig,
} from '../core/internal.ts';
import { type ProxyMethods, releaseProxy } from 'comlink';
import { IslandTable, type IslandSpec, RunningIsland } from './island.ts';
import type { RestartedEvent } from './remote/gateway-connection.ts';
import { RemoteIsland, type RemoteIslandRestart } from './remote/remote-island.ts';

export class PipelineHost {
  private readonly runner: PipelineRunner;
  private readonly islands = new IslandTable();

  constructor(options: PipelineRunnerOptions = {}) {
    this.runner = new PipelineRunner(options);
  }

  /**
   * Registers node types after start (the embedder's node modules, which the page
   * names once the worker runs). Throws if a type is already registered.
   */
  addNodes(definitions: readonly AnyNodeDefinition[]): void {
    for (const definition of definitions) this.runner.registry.register(definition);
  }

  nodeTypes(): readonly string[] {
    return this.runner.registry.types();
  }

  /** Every name a manifest may use for a node type here, aliases included. */
  nodeNames(): string[] {
    return this.runner.registry.names();
  }

  /** Throws ManifestValidationError when the manifest is invalid. */
  validate(manifest: ManifestSource): void {
    this.runner.prepare(manifest);
  }

  /**
   * Starts an island of a runtime session (see web/runtime/runtime.ts); `onBargeIn`
   * (a comlink proxy) hears of its barge-in triggers, for the session's other islands.
   */
  openIsland(spec: IslandSpec, onBargeIn?: (timestampUs: number) => void): Promise<string> {
    // Through comlink it returns a promise: a page gone meanwhile is not this island's error.
    const tell = onBargeIn && ((t: number) => void Promise.resolve(onBargeIn(t)).catch(() => {}));
    return this.islands.open(async () => {
      const island = await RunningIsland.start(this.runner, spec, tell);
      // The proxy holds a MessagePort open: let it go with the island.
      const release = (onBargeIn as Partial<ProxyMethods> | undefined)?.[releaseProxy];
      if (release) void island.done.catch(() => {}).finally(() => release.call(onBargeIn));
      return island;
    });
  }

  /**
   * Starts an island whose nodes run on a gateway; this thread streams its channels
   * there. `onRestarted` (a comlink proxy) hears of each restart on another gateway.
   */
  openRemoteIsland(
    spec: IslandSpec,
    remote: RemoteConfig,
    token: string,
    restart: RemoteIslandRestart = {},
    onRestarted?: (event: RestartedEvent) => void,
  ): Promise<string> {
    // Through comlink it returns a promise: a page gone meanwhile is not this island's error.
    const tell =
      onRestarted &&
      ((event: RestartedEvent) => void Promise.resolve(onRestarted(event)).catch(() => {}));
    return this.islands.open(async () => {
      const island = await RemoteIsland.start(spec, remote, {
        token,
        ...restart,
        onRestarted: tell,
      });
      // The proxy holds a MessagePort open: let it go with the island.
      const release = (onRestarted as Partial<ProxyMethods> | undefined)?.[releaseProxy];
      if (release) void island.done.catch(() => {}).finally(() => release.call(onRestarted));
      return island;
    });
  }

  islandDone(islandId: string): Promise<void> {
    return this.islands.done(islandId);
  }

  abortIsland(islandId: string, reason: string): void {
    this.islands.abort(islandId, reason);
  }

  /** Barge-in, out of band: a comlink message, not a frame behind the island's input. */
  interruptIsland(islandId: string, timestampUs?: number): void {
    this.islands.interrupt(islandId, timestampUs);
  }

  islandMetrics(islandId: string): Promise<NodeMetricsSnapshot[]> {
    return this.islands.metrics(islandId);
  }

  /**
   * Takes a Web Lock for the rest of this thread's life and resolves once it holds
   * it. The lock is released only when the thread ends, so the page learns of a
   * terminated or crashed worker by waiting for the same lock (see WorkerLink).
   */
  holdLifeline(name: string): Promise<void> {
    return new Promise((resolve) => {
      void navigator.locks.request(name, () => {
        resolve();
        return new Promise<never>(() => {});
      });
    });
  }
}
