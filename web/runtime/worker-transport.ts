/**
 * WorkerTransport: the PipelineTransport of a pipeline running in a module Worker.
 * The control plane is comlink; data crosses by structured clone for now (ring
 * buffers take over the audio path in the browser runtime).
 */
import { type Remote, releaseProxy, wrap } from 'comlink';
import {
  abortedError,
  iterateOutputs,
  type ManifestSource,
  type NodeMetricsSnapshot,
  type PipelineTransport,
  PreparedPipeline,
  RemoteMediaError,
  type RuntimeData,
  type SessionOptions,
  type SessionOutput,
  type StreamSession,
} from '../core/index.ts';
import { installErrorTransfer } from './error-transfer.ts';
import type { PipelineHost } from './pipeline-host.ts';

export interface WorkerTransportOptions {
  /** Makes the worker; the default starts this package's pipeline worker. */
  createWorker?: () => Worker;
}

function defaultWorker(): Worker {
  return new Worker(new URL('../../workers/pipeline-worker.ts', import.meta.url), {
    type: 'module',
    name: 'remotemedia-pipeline',
  });
}

/** Manifests cross the boundary as plain JSON; a prepared pipeline sends its manifest. */
function plain(manifest: ManifestSource): ManifestSource {
  return manifest instanceof PreparedPipeline ? manifest.manifest : manifest;
}

export class WorkerTransport implements PipelineTransport {
  private readonly worker: Worker;
  private readonly host: Remote<PipelineHost>;

  constructor(options: WorkerTransportOptions = {}) {
    installErrorTransfer();
    this.worker = (options.createWorker ?? defaultWorker)();
    this.host = wrap<PipelineHost>(this.worker);
  }

  /** Node types the worker's registry knows. */
  nodeTypes(): Promise<readonly string[]> {
    return this.host.nodeTypes();
  }

  validate(manifest: ManifestSource): Promise<void> {
    return this.host.validate(plain(manifest));
  }

  execute(manifest: ManifestSource, input: RuntimeData): Promise<RuntimeData> {
    return this.host.executeUnary(plain(manifest), input);
  }

  /** Runs every input through one session and returns every output with its sink. */
  run(manifest: ManifestSource, inputs: RuntimeData[]): Promise<SessionOutput[]> {
    return this.host.run(plain(manifest), inputs);
  }

  async stream(manifest: ManifestSource, options: SessionOptions = {}): Promise<StreamSession> {
    const { signal, ...rest } = options;
    if (signal?.aborted) throw abortedError(signal.reason);
    const sessionId = await this.host.openSession(plain(manifest), rest);
    return new WorkerStreamSession(this.host, sessionId, signal);
  }

  /** Stops the worker at once. Sessions in it end; their pending calls do not settle. */
  terminate(): void {
    this.host[releaseProxy]();
    this.worker.terminate();
  }
}

class WorkerStreamSession implements StreamSession {
  private ended = false;
  private error: unknown;

  constructor(
    private readonly host: Remote<PipelineHost>,
    readonly sessionId: string,
    signal: AbortSignal | undefined,
  ) {
    signal?.addEventListener(
      'abort',
      () => {
        this.fail(abortedError(signal.reason));
        void this.host.abort(sessionId, String((signal.reason as Error)?.message ?? signal.reason));
      },
      { once: true },
    );
  }

  private fail(error: unknown): void {
    if (this.error === undefined) this.error = error;
  }

  async sendInput(data: RuntimeData): Promise<void> {
    if (this.error !== undefined) throw this.error;
    if (this.ended)
      throw new RemoteMediaError('session_closed', `Session ${this.sessionId} has ended`);
    try {
      await this.host.send(this.sessionId, data);
    } catch (error) {
      this.fail(error);
      throw this.error;
    }
  }

  async recvOutput(): Promise<SessionOutput | undefined> {
    if (this.error !== undefined) throw this.error;
    if (this.ended) return undefined;
    try {
      const output = await this.host.receive(this.sessionId);
      if (output === undefined) this.ended = true;
      return output;
    } catch (error) {
      this.fail(error);
      throw this.error;
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<SessionOutput> {
    return iterateOutputs(this);
  }

  async close(): Promise<void> {
    if (this.error !== undefined) throw this.error;
    if (this.ended) return;
    try {
      await this.host.close(this.sessionId);
    } catch (error) {
      this.fail(error);
      throw this.error;
    }
  }

  isActive(): boolean {
    return !this.ended && this.error === undefined;
  }

  metrics(): Promise<NodeMetricsSnapshot[]> {
    return this.host.metrics(this.sessionId);
  }
}
