/**
 * WorkerLink: a module Worker running a PipelineHost, reached over comlink, whose
 * death the page notices. A worker that is terminated or crashes answers no more
 * calls, and comlink would wait for ever; every call made through `call` is raced
 * against `lost`, which rejects once the worker's lifeline lock is released.
 */
import { type Remote, releaseProxy, wrap } from 'comlink';
import { RemoteMediaError } from '../core/internal.ts';
import { prebuiltFile, resolveAssetsBase, type WorkerConfig } from './assets.ts';
import { installErrorTransfer } from './error-transfer.ts';
import type { PipelineHost } from './pipeline-host.ts';
import type { AddedEngines } from './speech/browser-speech-engines.ts';

/** What the pipeline worker (workers/pipeline-worker.ts) exposes. */
export interface PipelineWorkerApi extends PipelineHost {
  /** Answers the speech engines the node modules added, by node type (a custom worker may answer nothing). */
  configure(config: WorkerConfig): Promise<AddedEngines | void>;
}

/**
 * This package's pipeline worker. Written as `new Worker(new URL(...,
 * import.meta.url))` so that bundlers (Vite, webpack 5) emit the worker with its
 * imports; dist has `.js` here (scripts/finish-lib.mjs). The prebuilt build has it
 * in its assets folder instead.
 */
export function defaultPipelineWorker(assetsBase = resolveAssetsBase(undefined)): Worker {
  const prebuilt = prebuiltFile(assetsBase, 'pipeline-worker.js');
  if (prebuilt) return new Worker(prebuilt, { type: 'module', name: 'remotemedia-pipeline' });
  return new Worker(new URL('../../workers/pipeline-worker.ts', import.meta.url), {
    type: 'module',
    name: 'remotemedia-pipeline',
  });
}

export class WorkerLink {
  readonly host: Remote<PipelineHost>;
  /** Rejects with a `worker_lost` error once the worker is gone. Never resolves. */
  readonly lost: Promise<never>;
  private markLost!: (error: RemoteMediaError) => void;
  private isLost = false;

  private constructor(
    private readonly worker: Worker,
    readonly label: string,
  ) {
    installErrorTransfer();
    this.host = wrap<PipelineHost>(worker);
    this.lost = new Promise<never>((_, reject) => {
      this.markLost = (error) => {
        if (this.isLost) return;
        this.isLost = true;
        reject(error);
      };
    });
    this.lost.catch(() => {});
  }

  /** Starts a worker and waits until it holds its lifeline (or fails to start). */
  static async start(worker: Worker, label: string): Promise<WorkerLink> {
    const link = new WorkerLink(worker, label);
    const onError = (event: ErrorEvent) =>
      link.markLost(
        new RemoteMediaError(
          'worker_lost',
          `The ${label} worker failed to start: ${event.message}`,
        ),
      );
    worker.addEventListener('error', onError);
    const lifeline = `remotemedia-lifeline-${crypto.randomUUID()}`;
    try {
      await link.call(link.host.holdLifeline(lifeline));
    } finally {
      worker.removeEventListener('error', onError);
    }
    // Granted only when the worker no longer holds the lock: it has ended.
    void navigator.locks.request(lifeline, () =>
      link.markLost(
        new RemoteMediaError(
          'worker_lost',
          `The ${label} worker stopped (terminated or crashed); its sessions ended with it`,
        ),
      ),
    );
    return link;
  }

  get alive(): boolean {
    return !this.isLost;
  }

  /** `work`, unless the worker is lost first. */
  call<T>(work: Promise<T>): Promise<T> {
    return Promise.race([work, this.lost]);
  }

  terminate(reason = `The ${this.label} worker was disposed`): void {
    this.markLost(new RemoteMediaError('session_closed', reason));
    this.host[releaseProxy]();
    this.worker.terminate();
  }
}
