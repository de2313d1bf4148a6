/**
 * The output side of a StreamSession: what its sinks produced, waiting for
 * recvOutput. Every session type uses this one queue (the in-process
 * PipelineSession, the browser runtime's RuntimeSession, the gateway client's
 * RemoteSession), so they agree on when an output stream ends and how it fails.
 *
 * Semantics:
 * - One lane per sink, in order within a lane; next() takes round-robin across the
 *   lanes that hold items, so one busy sink does not starve another.
 * - Bounded: a lane holds `capacity` items, then push returns a promise that
 *   resolves once its item is queued. The producer waits for it before pushing
 *   again, which is how backpressure reaches a node task, a channel pump or the
 *   gateway connection (whose credit flows back only as outputs are taken).
 * - unbound(): once the session's input has ended nobody is obliged to read, so
 *   every lane may grow without bound; pushes waiting for room are queued at once.
 *   Nothing queued is lost: it stays readable until the end.
 * - The end: once every lane has ended and every item was taken, next() waits for
 *   the session to settle (the `settle` option: resolves on a clean end, rejects
 *   with the session's error) and resolves undefined, or rejects with that error.
 * - The outcome is decided once. After the end was delivered, every later next()
 *   resolves undefined and fail() changes nothing; after fail(error), every
 *   waiting and later next() and every waiting and later push rejects with the
 *   first error, and the items still queued are dropped (the session failed).
 * - Any number of next() calls may wait at once: they are served in call order and
 *   all of them see the end or the error; none is left waiting.
 *
 * Concurrency contract: one JS thread (one event loop); producers and consumers are
 * tasks on it. push allocates nothing when its item fits (a promise when it must
 * wait); next allocates its promise and the SessionOutput it returns.
 */
import { RemoteMediaError } from './errors.ts';
import type { RuntimeData } from './runtime-data.ts';
import type { SessionOutput } from './transport.ts';

interface PendingPush {
  data: RuntimeData;
  resolve: () => void;
  reject: (error: unknown) => void;
}

interface Waiter {
  resolve: (output: SessionOutput | undefined) => void;
  reject: (error: unknown) => void;
}

class Lane {
  items: RuntimeData[] = [];
  head = 0;
  ended = false;
  readonly pending: PendingPush[] = [];

  constructor(readonly sink: string) {}

  get length(): number {
    return this.items.length - this.head;
  }

  shift(): RuntimeData {
    const item = this.items[this.head]!;
    this.items[this.head] = undefined as unknown as RuntimeData;
    this.head++;
    // Compact now and then, so a long stream does not keep a growing array.
    if (this.head > 64 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}

export interface SessionOutputQueueOptions {
  /** Items per lane before push waits. Default 32. */
  capacity?: number;
  /**
   * Called once, when every lane has ended and been drained: resolves when the
   * session ended cleanly, rejects with its error. Default: resolves at once.
   */
  settle?: () => Promise<void>;
}

export class SessionOutputQueue {
  private readonly lanes: Lane[];
  private capacity: number;
  private readonly settle: () => Promise<void>;
  private openLanes: number;
  private queued = 0;
  private cursor = 0;
  private readonly waiters: Waiter[] = [];
  private failure: { error: unknown } | undefined;
  /** Set once every lane ended and drained: the settled end (or its error). */
  private ending: Promise<undefined> | undefined;
  private endDelivered = false;

  /** `sinks` names the node of each lane, as recvOutput reports it. */
  constructor(sinks: readonly string[], options: SessionOutputQueueOptions = {}) {
    const capacity = options.capacity ?? 32;
    if (!(capacity >= 1)) {
      throw new RemoteMediaError(
        'usage',
        `queueCapacity must be at least 1, found ${String(options.capacity)}`,
      );
    }
    this.lanes = sinks.map((sink) => new Lane(sink));
    this.openLanes = this.lanes.length;
    this.capacity = capacity;
    this.settle = options.settle ?? (() => Promise.resolve());
  }

  /** Items queued now, across lanes (not counting pushes waiting for room). */
  get depth(): number {
    return this.queued;
  }

  /**
   * Producer. Queues one output of lane `lane`'s sink: undefined when it was queued
   * at once, else a promise that resolves once it is (wait before pushing again).
   * Rejects with the failure once the queue failed, and with a usage error for a
   * lane that does not exist or has ended.
   */
  push(lane: number, data: RuntimeData): Promise<void> | undefined {
    if (this.failure) return Promise.reject(this.failure.error);
    const target = this.lanes[lane];
    if (!target) return Promise.reject(this.noLane(lane));
    if (target.ended) {
      return Promise.reject(
        new RemoteMediaError('usage', `an output of '${target.sink}' arrived after its end`),
      );
    }
    if (target.length >= this.capacity) {
      return new Promise((resolve, reject) => target.pending.push({ data, resolve, reject }));
    }
    this.enqueue(target, data);
    return undefined;
  }

  /** Producer. Lane `lane`'s sink has ended: no more pushes to it. Idempotent. */
  endLane(lane: number): void {
    if (this.failure) return;
    const target = this.lanes[lane];
    if (!target) throw this.noLane(lane);
    if (target.ended) return;
    target.ended = true;
    this.openLanes--;
    // Waiters exist only while nothing is queued, so this is the drained end.
    if (this.openLanes === 0 && this.waiters.length > 0) {
      const end = this.finish();
      for (const waiter of this.waiters.splice(0)) end.then(waiter.resolve, waiter.reject);
    }
  }

  /** Lets every lane grow without bound and queues the pushes waiting for room. */
  unbound(): void {
    this.capacity = Number.POSITIVE_INFINITY;
    for (const lane of this.lanes) {
      for (const pending of lane.pending.splice(0)) {
        this.enqueue(lane, pending.data);
        pending.resolve();
      }
    }
  }

  /**
   * Consumer. The next output, undefined once the stream has ended and the session
   * settled cleanly; rejects with the session's error.
   */
  next(): Promise<SessionOutput | undefined> {
    if (this.endDelivered) return Promise.resolve(undefined);
    if (this.failure) return Promise.reject(this.failure.error);
    if (this.queued > 0) return Promise.resolve(this.takeNow());
    if (this.openLanes === 0) return this.finish();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Consumer. The outputs until the end; throws the session's error once, then is done. */
  async *[Symbol.asyncIterator](): AsyncGenerator<SessionOutput, void, undefined> {
    for (;;) {
      const output = await this.next();
      if (output === undefined) return;
      yield output;
    }
  }

  /**
   * Fails the queue with `error` (the first failure wins): waiting next() and push
   * calls reject with it, queued items are dropped. Ignored once the end was delivered.
   */
  fail(error: unknown): void {
    if (this.failure || this.endDelivered) return;
    this.failure = { error };
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
    for (const lane of this.lanes) {
      for (const pending of lane.pending.splice(0)) pending.reject(error);
      lane.items = [];
      lane.head = 0;
    }
    this.queued = 0;
  }

  private noLane(lane: number): RemoteMediaError {
    return new RemoteMediaError(
      'usage',
      `no output lane ${lane}: this session has ${this.lanes.length} sinks (lanes 0 to ${this.lanes.length - 1})`,
    );
  }

  private enqueue(lane: Lane, data: RuntimeData): void {
    const waiter = this.waiters.shift();
    if (waiter) {
      waiter.resolve({ nodeId: lane.sink, data });
      return;
    }
    lane.items.push(data);
    this.queued++;
  }

  private takeNow(): SessionOutput {
    const count = this.lanes.length;
    for (let k = 0; k < count; k++) {
      const index = (this.cursor + k) % count;
      const lane = this.lanes[index]!;
      if (lane.length === 0) continue;
      const data = lane.shift();
      this.queued--;
      this.cursor = (index + 1) % count;
      const pending = lane.pending.shift();
      if (pending) {
        lane.items.push(pending.data);
        this.queued++;
        pending.resolve();
      }
      return { nodeId: lane.sink, data };
    }
    throw new RemoteMediaError('usage', 'session output queue: nothing to take (a bug)');
  }

  /** The end, settled once: undefined, or the first failure (the session's or ours). */
  private finish(): Promise<undefined> {
    this.ending ??= this.settle().then(
      () => {
        if (this.failure) throw this.failure.error;
        this.endDelivered = true;
        return undefined;
      },
      (error: unknown) => {
        this.fail(error);
        throw this.failure!.error;
      },
    );
    return this.ending;
  }
}
