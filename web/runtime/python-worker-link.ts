/**
 * The page's side of the Python worker: starts it on first use, shares the
 * control block with it, and keeps a watchdog that interrupts a Python call that
 * overran its deadline or whose session was aborted. The worker's thread is busy
 * while Python runs, so interrupts go through shared memory, not messages.
 */
import type { Remote } from 'comlink';
import { proxy, transfer } from 'comlink';
import { platform } from '../platform.ts';
import { PythonControl } from '../python/python-control.ts';
import type { PythonHost } from '../python/python-host.ts';
import type { PythonLoadStage } from '../python/python-runtime.ts';
import { definePythonNode } from '../python/python-node.ts';
import { prebuiltFile, type WorkerConfig } from './assets.ts';
import { transferablesOf } from './channel/channel.ts';
import { islandNumber } from './python-worker-host.ts';
import type { IslandRunner } from './runtime-session.ts';
import { WorkerLink } from './worker-link.ts';

/** PythonNode as the page knows it: for validating params and planning only. */
export const PYTHON_NODE = definePythonNode(() =>
  Promise.reject(new Error('PythonNode runs in the Python worker')),
);

const WATCH_EVERY_MS = 100;

/** What the Python worker (workers/python-worker.ts) exposes. */
interface PythonWorkerApi extends PythonHost {
  configure(config: Pick<WorkerConfig, 'assetsBase'>): void;
}

/** Like defaultPipelineWorker (worker-link.ts): bundlers emit it; the prebuilt has it beside its assets. */
function defaultPythonWorker(assetsBase: string): Worker {
  const prebuilt = prebuiltFile(assetsBase, 'python-worker.js');
  if (prebuilt) return new Worker(prebuilt, { type: 'module', name: 'remotemedia-python' });
  return new Worker(new URL('../../workers/python-worker.ts', import.meta.url), {
    type: 'module',
    name: 'remotemedia-python',
  });
}

export class PythonWorker {
  private link: WorkerLink | undefined;
  private starting: Promise<WorkerLink> | undefined;
  private control: PythonControl | undefined;
  private watchdog: ReturnType<typeof setInterval> | undefined;
  private readonly deadlineMs: number;

  constructor(
    private readonly options: {
      createWorker?: () => Worker;
      callDeadlineMs?: number;
      /** The resolved assets base (see assets.ts): Pyodide loads from `pyodide/` there. */
      assetsBase: string;
    },
  ) {
    this.deadlineMs = options.callDeadlineMs ?? 30_000;
  }

  async warm(onProgress?: (stage: PythonLoadStage, fraction: number) => void): Promise<number> {
    const link = await this.ensure();
    const host = link.host as unknown as Remote<PythonHost>;
    return link.call(host.warm(onProgress ? proxy(onProgress) : undefined));
  }

  /** Swaps the Python object of a running PythonNode; resolves with how many were. */
  async updateNode(nodeId: string, params: unknown): Promise<number> {
    const link = await this.ensure();
    const host = link.host as unknown as Remote<PythonHost>;
    return link.call(host.updateNode(nodeId, params));
  }

  async islandRunner(): Promise<IslandRunner> {
    const link = await this.ensure();
    const control = this.control;
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
            // A running Python call holds the worker's thread: interrupt it first, so
            // that the abort message below can be read at all.
            if (control && control.busyMs() > 0) control.raiseInterrupt();
            if (link.alive) void link.host.abortIsland(id, reason);
          },
          metrics: () => link.call(link.host.islandMetrics(id)),
          // The message is read between Python calls (a running call holds the
          // worker's thread); the shared flag reaches the running call itself, whose
          // signal handler interrupts this island at once (the message then does
          // not act again: same stamp).
          interrupt: (timestampUs) => {
            if (control && control.busyMs() > 0)
              control.requestBargeIn(islandNumber(id), timestampUs);
            if (link.alive) link.host.interruptIsland(id, timestampUs).catch(() => {});
          },
        };
      },
    };
  }

  dispose(): void {
    if (this.watchdog !== undefined) clearInterval(this.watchdog);
    this.watchdog = undefined;
    this.link?.terminate();
    this.link = undefined;
  }

  private async ensure(): Promise<WorkerLink> {
    if (this.link?.alive) return this.link;
    this.starting ??= (async () => {
      const worker = this.options.createWorker?.() ?? defaultPythonWorker(this.options.assetsBase);
      const link = await WorkerLink.start(worker, 'Python');
      await link.call(
        (link.host as unknown as Remote<PythonWorkerApi>).configure({
          assetsBase: this.options.assetsBase,
        }),
      );
      if (platform.sharedArrayBuffer) {
        this.control = PythonControl.create();
        await link.call(
          (link.host as unknown as Remote<PythonHost>).setControl(this.control.buffer),
        );
        this.startWatchdog(this.control);
      }
      this.link = link;
      return link;
    })().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private startWatchdog(control: PythonControl): void {
    if (this.watchdog !== undefined) clearInterval(this.watchdog);
    this.watchdog = setInterval(() => {
      if (control.busyMs() > this.deadlineMs) control.raiseInterrupt();
    }, WATCH_EVERY_MS);
  }
}
