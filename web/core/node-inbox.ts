/**
 * A node's inbox: one bounded FIFO lane per incoming edge, read by one consumer.
 * Order is preserved per lane; the consumer takes round-robin across lanes that
 * have items, so fan-in never waits on one edge while another has data (which is
 * what keeps diamonds and fan-in free of deadlock with bounded lanes).
 *
 * Concurrency contract: single-threaded (one JS event loop). Any number of
 * producers may push to a lane; pushes to a full lane wait in FIFO order. One
 * consumer calls take() at a time. push and take return plain values when they can
 * complete at once, so the steady state allocates no promises.
 */

export const END_OF_STREAM: unique symbol = Symbol('end of stream');
export type EndOfStream = typeof END_OF_STREAM;

interface PendingPush<T> {
  item: T;
  resolve: () => void;
  reject: (error: unknown) => void;
}

class Lane<T> {
  /**
   * Items from `head` to `tail`. An empty lane starts again at 0 in the same array,
   * so a lane whose node takes each item as it comes (the usual case) reuses one slot
   * and allocates nothing. It used to grow by a slot per item and be copied out every
   * 65 items, each copy living that long: V8 promoted them into the old generation
   * (a gateway session's largest promotion per frame but one).
   */
  items: T[] = [];
  head = 0;
  tail = 0;
  closed = false;
  pending: PendingPush<T>[] = [];

  get length(): number {
    return this.tail - this.head;
  }

  push(item: T): void {
    this.items[this.tail++] = item;
  }

  shift(): T {
    const item = this.items[this.head]!;
    this.items[this.head] = undefined as T;
    this.head++;
    if (this.head === this.tail) {
      this.head = 0;
      this.tail = 0;
    } else if (this.head > 64 && this.head * 2 > this.tail) {
      // A long queue being worked off: move what is left to the front, in place.
      this.items.copyWithin(0, this.head, this.tail);
      this.items.fill(undefined as T, this.tail - this.head, this.tail);
      this.tail -= this.head;
      this.head = 0;
    }
    return item;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
    this.tail = 0;
  }
}

export class NodeInbox<T> {
  private readonly lanes: Lane<T>[];
  private cursor = 0;
  private openLanes: number;
  private capacity: number;
  private waiter:
    { resolve: (value: T | EndOfStream) => void; reject: (e: unknown) => void } | undefined;
  private failure: { error: unknown } | undefined;
  /** Lane of the item the last take() returned. */
  lastLane = 0;
  /** Highest number of items queued at once, across lanes. */
  highWater = 0;
  private queued = 0;

  constructor(laneCount: number, capacity: number) {
    this.lanes = [];
    for (let i = 0; i < laneCount; i++) this.lanes.push(new Lane<T>());
    this.openLanes = laneCount;
    this.capacity = capacity;
  }

  /** Items queued now, across lanes (not counting pushes waiting for room). */
  get depth(): number {
    return this.queued;
  }

  /**
   * Queues an item on a lane. Returns undefined when it was queued at once, or a
   * promise that resolves once it is (backpressure). Rejects if the inbox failed.
   */
  push(lane: number, item: T): Promise<void> | undefined {
    if (this.failure) return Promise.reject(this.failure.error);
    const target = this.lanes[lane]!;
    if (target.closed) return Promise.reject(new Error(`push to closed lane ${lane}`));
    if (target.length >= this.capacity) {
      return new Promise((resolve, reject) => target.pending.push({ item, resolve, reject }));
    }
    this.enqueue(target, item);
    return undefined;
  }

  private enqueue(lane: Lane<T>, item: T): void {
    lane.push(item);
    this.queued++;
    if (this.queued > this.highWater) this.highWater = this.queued;
    if (this.waiter) {
      const waiter = this.waiter;
      this.waiter = undefined;
      waiter.resolve(this.takeNow() as T);
    }
  }

  /** No more items will come on this lane. */
  closeLane(lane: number): void {
    const target = this.lanes[lane]!;
    if (target.closed) return;
    target.closed = true;
    this.openLanes--;
    if (this.openLanes === 0 && this.waiter && this.queued === 0) {
      const waiter = this.waiter;
      this.waiter = undefined;
      waiter.resolve(END_OF_STREAM);
    }
  }

  /** Lets every lane grow without bound (used once nobody may be left to read). */
  removeBound(): void {
    this.capacity = Number.POSITIVE_INFINITY;
    for (const lane of this.lanes) {
      for (const pending of lane.pending.splice(0)) {
        this.enqueue(lane, pending.item);
        pending.resolve();
      }
    }
  }

  /**
   * The next item, END_OF_STREAM once every lane is closed and drained, or a
   * promise of either. Throws (or rejects) with the failure once failed.
   */
  take(): T | EndOfStream | Promise<T | EndOfStream> {
    if (this.failure) throw this.failure.error;
    if (this.queued > 0) return this.takeNow();
    if (this.openLanes === 0) return END_OF_STREAM;
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  private takeNow(): T | EndOfStream {
    const count = this.lanes.length;
    for (let k = 0; k < count; k++) {
      const index = (this.cursor + k) % count;
      const lane = this.lanes[index]!;
      if (lane.length === 0) continue;
      const item = lane.shift();
      this.queued--;
      this.cursor = (index + 1) % count;
      this.lastLane = index;
      const pending = lane.pending.shift();
      if (pending) {
        lane.push(pending.item);
        this.queued++;
        pending.resolve();
      }
      return item;
    }
    return END_OF_STREAM;
  }

  /** Rejects the consumer and every waiting producer; later calls throw `error`. */
  fail(error: unknown): void {
    if (this.failure) return;
    this.failure = { error };
    this.waiter?.reject(error);
    this.waiter = undefined;
    for (const lane of this.lanes) {
      for (const pending of lane.pending.splice(0)) pending.reject(error);
      lane.clear();
    }
    this.queued = 0;
  }
}
