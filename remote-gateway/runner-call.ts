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
 *
 * Back-pressure: a generator may make items far faster than the client reads them.
 * Past QUEUE_HIGH_WATER bytes queued here, `flow.pause()` stops reading the runner's
 * pipe (the runner then blocks on its write); `flow.resume()` once half is taken,
 * or when the call ends or is stopped.
 */
import type { RuntimeData } from '../web/core/internal.ts';

/** Bytes of items (as the runner framed them) queued before the runner is held back. */
export const QUEUE_HIGH_WATER = 8 << 20;

/** Holds back, and lets go, whatever feeds a call (the runner's response pipe). */
export interface CallFlow {
  pause(): void;
  resume(): void;
}

export class RunnerCall implements AsyncIterable<RuntimeData> {
  private queue: RuntimeData[] = [];
  /** Per queued item: its size as framed by the runner (for the high water). */
  private sizes: number[] = [];
  private queuedBytes = 0;
  private paused = false;
  private done = false;
  private error: unknown;
  private streaming = false;
  private wake: (() => void) | undefined;
  private settleFirst: ((value: readonly RuntimeData[] | RunnerCall) => void) | undefined;
  private rejectFirst: ((error: unknown) => void) | undefined;
  /** Resolves once the call's form is known (see the file's comment). */
  readonly first: Promise<readonly RuntimeData[] | RunnerCall>;

  constructor(private readonly flow?: CallFlow) {
    this.first = new Promise((resolve, reject) => {
      this.settleFirst = resolve;
      this.rejectFirst = reject;
    });
  }

  /** Items of a `more` response, with their framed sizes. */
  push(items: readonly RuntimeData[], sizes: readonly number[] = []): void {
    if (this.done) return;
    this.queue.push(...items);
    for (let i = 0; i < items.length; i++) {
      const size = sizes[i] ?? 0;
      this.sizes.push(size);
      this.queuedBytes += size;
    }
    if (!this.paused && this.queuedBytes > QUEUE_HIGH_WATER && this.flow) {
      this.paused = true;
      this.flow.pause();
    }
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
    this.letGo();
    this.signal();
  }

  fail(error: unknown): void {
    if (this.done) return;
    this.done = true;
    this.error = error;
    if (!this.streaming) this.rejectFirst?.(error);
    this.letGo();
    this.signal();
  }

  /** Ends the call now, dropping queued items; returns how many were dropped. */
  stop(): number {
    const dropped = this.queue.length;
    this.queue = [];
    this.sizes = [];
    this.queuedBytes = 0;
    this.letGo();
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
        const item = this.queue.shift()!;
        this.queuedBytes -= this.sizes.shift() ?? 0;
        if (this.queuedBytes <= QUEUE_HIGH_WATER / 2) this.letGo();
        yield item;
        continue;
      }
      if (this.done) {
        if (this.error !== undefined) throw this.error;
        return;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** The runner may write again (half the queue taken, or nothing more wanted). */
  private letGo(): void {
    if (!this.paused) return;
    this.paused = false;
    this.flow?.resume();
  }

  private signal(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
