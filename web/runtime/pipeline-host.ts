/**
 * What a pipeline worker exposes over comlink: a PipelineRunner and the stream
 * sessions it runs, addressed by session id. Runs inside the worker; the main
 * thread reaches it through WorkerTransport.
 */
import {
  type ManifestSource,
  type NodeMetricsSnapshot,
  PipelineRunner,
  type PipelineRunnerOptions,
  RemoteMediaError,
  type RuntimeData,
  type SessionOptions,
  type SessionOutput,
  type StreamSession,
} from '../core/index.ts';
import { IslandTable, type IslandSpec } from './island.ts';

export type HostSessionOptions = Omit<SessionOptions, 'signal'>;

export class PipelineHost {
  private readonly runner: PipelineRunner;
  private readonly sessions = new Map<string, { session: StreamSession; abort: AbortController }>();
  private readonly islands = new IslandTable();

  constructor(options: PipelineRunnerOptions = {}) {
    this.runner = new PipelineRunner(options);
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

  executeUnary(manifest: ManifestSource, input: RuntimeData): Promise<RuntimeData> {
    return this.runner.executeUnary(manifest, input);
  }

  run(manifest: ManifestSource, inputs: RuntimeData[]): Promise<SessionOutput[]> {
    return this.runner.run(manifest, inputs);
  }

  async openSession(manifest: ManifestSource, options: HostSessionOptions = {}): Promise<string> {
    const abort = new AbortController();
    const session = await this.runner.createStreamSession(manifest, {
      ...options,
      signal: abort.signal,
    });
    this.sessions.set(session.sessionId, { session, abort });
    return session.sessionId;
  }

  send(sessionId: string, data: RuntimeData): Promise<void> {
    return this.get(sessionId).session.sendInput(data);
  }

  async receive(sessionId: string): Promise<SessionOutput | undefined> {
    const { session } = this.get(sessionId);
    try {
      const output = await session.recvOutput();
      if (output === undefined) this.sessions.delete(sessionId);
      return output;
    } catch (error) {
      this.sessions.delete(sessionId);
      throw error;
    }
  }

  close(sessionId: string): Promise<void> {
    return this.get(sessionId).session.close();
  }

  abort(sessionId: string, reason: string): void {
    const entry = this.sessions.get(sessionId);
    entry?.abort.abort(new RemoteMediaError('aborted', `Aborted: ${reason}`));
    this.sessions.delete(sessionId);
  }

  metrics(sessionId: string): Promise<NodeMetricsSnapshot[]> {
    return this.get(sessionId).session.metrics();
  }

  /** Starts an island of a runtime session (see web/runtime/runtime.ts). */
  openIsland(spec: IslandSpec): Promise<string> {
    return this.islands.open(this.runner, spec);
  }

  islandDone(islandId: string): Promise<void> {
    return this.islands.done(islandId);
  }

  abortIsland(islandId: string, reason: string): void {
    this.islands.abort(islandId, reason);
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

  private get(sessionId: string) {
    const entry = this.sessions.get(sessionId);
    if (!entry) {
      throw new RemoteMediaError('session_closed', `No open session '${sessionId}' in this worker`);
    }
    return entry;
  }
}
