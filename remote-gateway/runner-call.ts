/**
 * One call to a node runner, as its outputs arrive: the runner answers a generator
 * node's call with `more` responses (each item as it is made) before its final `ok`
 * (runner-pipe.ts). `first` settles at the earliest moment that tells the executor
 * the output's form: with the final items when the call ended before any `more`
 * (a plain result: no iteration cost), or with this object, an async iterable that
 * yields each item as it arrives. `stop` (barge-in) ends the iteration at once and
 * drops what is queued; the runner is cancelled separately (PythonProcess.cancel).
 *
 * Single-threaded (the gateway's event loop); push/end/fail/stop come from the pipe's
 * data handler and the node's interrupt hook, the iteration from the executor.
 */
import type { RuntimeData } from '../web/core/internal.ts';

export class RunnerCall implements AsyncIterable<RuntimeData> {
  private queue: RuntimeData[] = [];
  private done = false;
  private error: unknown;
  private streaming = false;
  private wake: (() => void) | undefined;
  private settleFirst: ((value: readonly RuntimeData[] | RunnerCall) => void) | undefined;
  private rejectFirst: ((error: unknown) => void) | undefined;
  /** Resolves once the call's form is known (see the file's comment). */
  readonly first: Promise<readonly RuntimeData[] | RunnerCall>;

  constructor() {
    this.first = new Promise((resolve, reject) => {
      this.settleFirst = resolve;
      this.rejectFirst = reject;
    });
  }

  /** Items of a `more` response. */
  push(items: readonly RuntimeData[]): void {
    if (this.done) return;
    this.queue.push(...items);
    if (!this.streaming) {
      this.streaming = true;
      this.settleFirst?.(this);
    }
    this.signal();
  }

  /** The final `ok`: its items (usually none after `more`) end the call. */
  end(items: readonly RuntimeData[]): void {
    if (this.done) return;
    if (!this.streaming) {
      this.done = true;
      this.settleFirst?.(items);
      return;
    }
    this.queue.push(...items);
    this.done = true;
    this.signal();
  }

  fail(error: unknown): void {
    if (this.done) return;
    this.done = true;
    this.error = error;
    if (!this.streaming) this.rejectFirst?.(error);
    this.signal();
  }

  /** Ends the call now, dropping queued items; returns how many were dropped. */
  stop(): number {
    const dropped = this.queue.length;
    this.queue = [];
    if (!this.done) {
      this.done = true;
      if (!this.streaming) {
        this.streaming = true;
        this.settleFirst?.([]);
      }
    }
    this.error = undefined;
    this.signal();
    return dropped;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<RuntimeData> {
    for (;;) {
      if (this.queue.length > 0) {
        yield this.queue.shift()!;
        continue;
      }
      if (this.done) {
        if (this.error !== undefined) throw this.error;
        return;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private signal(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
