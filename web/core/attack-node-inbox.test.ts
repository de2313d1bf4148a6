/**
 * Attack on NodeInbox's reused lane arrays: random interleavings of pushes (admitted
 * or held at the bound), takes (including takes whose item the interrupt gate then
 * drops: to the inbox a take like any other), lane closes, removeBound and fail,
 * checked step by step against a plain reference model of the same contract: order
 * per lane (held producers in FIFO order behind the queue), round-robin across
 * lanes, nothing lost or duplicated, the bound admitting and holding exactly as the
 * model says, depth and highWater. And over 10^6 items with a consumer lagging by
 * random amounts, each lane's array stays within twice the lane's own most-queued
 * plus the 65 slots a lane may run ahead before it is moved to the front.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { END_OF_STREAM, NodeInbox } from './node-inbox.ts';

type Op =
  | { op: 'push'; lane: number }
  | { op: 'take' }
  | { op: 'close'; lane: number }
  | { op: 'removeBound' }
  | { op: 'fail' };

/** The contract, written the simplest way: plain arrays, no reuse. */
class Model {
  queues: number[][];
  held: number[][]; // values of pushes waiting for room, FIFO per lane
  closed: boolean[];
  cursor = 0;
  capacity: number;
  failed = false;
  highWater = 0;
  /** How each push that did not complete at once must settle. */
  outcome = new Map<number, 'resolved' | 'rejected'>();
  constructor(lanes: number, capacity: number) {
    this.queues = Array.from({ length: lanes }, () => []);
    this.held = Array.from({ length: lanes }, () => []);
    this.closed = Array.from({ length: lanes }, () => false);
    this.capacity = capacity;
  }
  get depth() {
    return this.queues.reduce((n, q) => n + q.length, 0);
  }
  /** 'queued' | 'held' | 'rejected' */
  push(lane: number, value: number): string {
    if (this.failed || this.closed[lane]) {
      this.outcome.set(value, 'rejected');
      return 'rejected';
    }
    if (this.queues[lane]!.length >= this.capacity) {
      this.held[lane]!.push(value);
      return 'held';
    }
    this.queues[lane]!.push(value);
    this.highWater = Math.max(this.highWater, this.depth);
    return 'queued';
  }
  /** The item, 'end', 'wait' (would block) or 'throw'. */
  take(): number | string {
    if (this.failed) return 'throw';
    const count = this.queues.length;
    for (let k = 0; k < count; k++) {
      const index = (this.cursor + k) % count;
      const queue = this.queues[index]!;
      if (queue.length === 0) continue;
      const item = queue.shift()!;
      this.cursor = (index + 1) % count;
      const held = this.held[index]!.shift();
      if (held !== undefined) {
        queue.push(held);
        this.outcome.set(held, 'resolved');
      }
      return item;
    }
    return this.closed.every(Boolean) ? 'end' : 'wait';
  }
  removeBound() {
    this.capacity = Number.POSITIVE_INFINITY;
    for (let i = 0; i < this.queues.length; i++) {
      for (const held of this.held[i]!.splice(0)) {
        this.queues[i]!.push(held);
        this.outcome.set(held, 'resolved');
      }
      this.highWater = Math.max(this.highWater, this.depth);
    }
  }
}

/** The lane arrays NodeInbox keeps (private): what a lane holds on to. */
function laneArrays(inbox: NodeInbox<number>): unknown[][] {
  return (inbox as unknown as { lanes: { items: unknown[] }[] }).lanes.map((l) => l.items);
}

/** Lets settled promises' callbacks run (each is one reaction away). */
async function flush(): Promise<void> {
  for (let i = 0; i < 3; i++) await null;
}

async function runAgainstModel(lanes: number, capacity: number, ops: Op[]): Promise<void> {
  const inbox = new NodeInbox<number>(lanes, capacity);
  const model = new Model(lanes, capacity);
  let next = 0;
  const settled = new Map<number, 'resolved' | 'rejected'>();
  const checked = new Set<number>();
  const taken: number[] = [];
  // A consumer waiting on an empty inbox: the item (or end) it will be handed.
  let waiting: { result: number | string | undefined } | undefined;
  const error = new Error('failed on purpose');

  for (const step of ops) {
    if (step.op === 'push') {
      const value = next++;
      const expected = model.push(step.lane, value);
      let result: Promise<void> | undefined;
      try {
        result = inbox.push(step.lane, value);
      } catch {
        throw new Error(`push threw synchronously at ${value}`);
      }
      if (expected === 'queued') {
        expect(result, `push ${value} to lane ${step.lane} admitted at once`).toBeUndefined();
        if (waiting) {
          // A waiting consumer gets it straight away (every lane was empty).
          expect(model.take()).toBe(value);
        }
      } else {
        expect(result, `push ${value} (${expected})`).toBeInstanceOf(Promise);
        result!.then(
          () => settled.set(value, 'resolved'),
          () => settled.set(value, 'rejected'),
        );
      }
    } else if (step.op === 'take') {
      if (waiting) continue; // one consumer at a time
      const expected = model.take();
      let actual: ReturnType<NodeInbox<number>['take']> | string;
      try {
        actual = inbox.take();
      } catch (e) {
        expect(e).toBe(error);
        actual = 'throw';
      }
      if (expected === 'wait') {
        expect(actual).toBeInstanceOf(Promise);
        const box: { result: number | string | undefined } = { result: undefined };
        waiting = box;
        (actual as Promise<number | typeof END_OF_STREAM>).then(
          (v) => (box.result = v === END_OF_STREAM ? 'end' : v),
          () => (box.result = 'throw'),
        );
      } else if (expected === 'end') {
        expect(actual).toBe(END_OF_STREAM);
      } else {
        expect(actual).toBe(expected);
        if (typeof actual === 'number') taken.push(actual);
      }
    } else if (step.op === 'close') {
      if (!model.closed[step.lane]) {
        model.closed[step.lane] = true;
      }
      inbox.closeLane(step.lane);
    } else if (step.op === 'removeBound') {
      model.removeBound();
      inbox.removeBound();
    } else {
      model.failed = true;
      for (const q of model.queues) q.length = 0;
      for (const h of model.held)
        for (const value of h.splice(0)) model.outcome.set(value, 'rejected');
      inbox.fail(error);
    }
    await flush();
    if (waiting && waiting.result !== undefined) {
      if (typeof waiting.result === 'number') taken.push(waiting.result);
      waiting = undefined;
    } else if (waiting && model.closed.every(Boolean) && model.depth === 0) {
      throw new Error('a consumer waits on an inbox whose lanes are all closed and empty');
    } else if (waiting && model.failed) {
      throw new Error('a consumer still waits on a failed inbox');
    }
    if (!model.failed) {
      expect(inbox.depth).toBe(model.depth);
      expect(inbox.highWater).toBe(model.highWater);
    }
    // Every push that did not complete at once settles exactly as and when the model says.
    if (settled.size !== model.outcome.size) {
      throw new Error(`${settled.size} pushes settled, the model settled ${model.outcome.size}`);
    }
    for (const [value, outcome] of settled) {
      if (checked.has(value)) continue;
      expect(outcome, `push ${value}`).toBe(model.outcome.get(value));
      checked.add(value);
    }
  }
  // Nothing duplicated.
  expect(new Set(taken).size).toBe(taken.length);
  // Nothing lost: what is not taken is still queued or held (unless failed).
  if (!model.failed) {
    const rest = [...model.queues.flat(), ...model.held.flat()];
    for (const value of rest) expect(taken).not.toContain(value);
  }
}

const opArb = (lanes: number): fc.Arbitrary<Op> =>
  fc.oneof(
    {
      weight: 10,
      arbitrary: fc.record({ op: fc.constant('push' as const), lane: fc.nat(lanes - 1) }),
    },
    { weight: 8, arbitrary: fc.constant({ op: 'take' as const }) },
    {
      weight: 1,
      arbitrary: fc.record({ op: fc.constant('close' as const), lane: fc.nat(lanes - 1) }),
    },
    { weight: 1, arbitrary: fc.constant({ op: 'removeBound' as const }) },
    { weight: 1, arbitrary: fc.constant({ op: 'fail' as const }) },
  );

/** Runs of one op repeated (bursts push lanes past 64 and past half: moves to the front). */
const burstsArb = (lanes: number) =>
  fc
    .array(fc.tuple(opArb(lanes), fc.integer({ min: 1, max: 150 })), { maxLength: 40 })
    .map((runs) =>
      runs.flatMap(([op, n]) => Array.from({ length: op.op === 'fail' ? 1 : n }, () => op)),
    );

describe('NodeInbox against a reference model (fast-check)', () => {
  it('random interleavings: order, round-robin, bound, depth, highWater, settling', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .integer({ min: 1, max: 4 })
          .chain((lanes) =>
            fc.tuple(fc.constant(lanes), fc.integer({ min: 1, max: 300 }), burstsArb(lanes)),
          ),
        async ([lanes, capacity, ops]) => runAgainstModel(lanes, capacity, ops),
      ),
      { numRuns: 100 },
    );
  }, 120_000);

  it('a queue longer than half the array, worked off and refilled across the move, in order', () => {
    // Capacity larger than the queue: every pattern of take-k / push-m on one lane.
    for (const [fillTo, takeEach, pushEach] of [
      [66, 1, 0],
      [130, 1, 1],
      [200, 3, 2],
      [1000, 7, 5],
      [65, 65, 65],
      [129, 64, 64],
    ] as const) {
      const inbox = new NodeInbox<number>(1, 1_000_000);
      let next = 0;
      let expected = 0;
      for (let i = 0; i < fillTo; i++) inbox.push(0, next++);
      for (let round = 0; round < 2000 && inbox.depth > 0; round++) {
        for (let i = 0; i < takeEach && inbox.depth > 0; i++) expect(inbox.take()).toBe(expected++);
        if (round < 500) for (let i = 0; i < pushEach; i++) inbox.push(0, next++);
      }
      while (inbox.depth > 0) expect(inbox.take()).toBe(expected++);
      expect(expected).toBe(next);
      // No reference kept to a taken item.
      expect(laneArrays(inbox)[0]!.every((slot) => slot === undefined)).toBe(true);
    }
  });

  it('10^6 items with a consumer lagging by random amounts: each lane array stays bounded', () => {
    const lanes = 3;
    const capacity = 256;
    const inbox = new NodeInbox<number>(lanes, capacity);
    let seed = 12345;
    const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const nextIn = [0, 0, 0];
    const nextOut = [0, 0, 0];
    const laneMost = [0, 0, 0];
    const queued = [0, 0, 0];
    let pushed = 0;
    while (pushed < 1_000_000) {
      // A producer burst on a random lane, up to the bound (held pushes not used here).
      const lane = Math.floor(random() * lanes);
      const burst = Math.floor(random() * 300);
      for (let i = 0; i < burst && queued[lane]! < capacity; i++) {
        if (inbox.push(lane, lane * 1e7 + nextIn[lane]!++) !== undefined) {
          throw new Error(`push below the bound on lane ${lane} was held`);
        }
        queued[lane]!++;
        pushed++;
      }
      laneMost[lane] = Math.max(laneMost[lane]!, queued[lane]!);
      // The consumer lags: takes a random number, sometimes none.
      const takes = Math.floor(random() * 320);
      for (let i = 0; i < takes && inbox.depth > 0; i++) {
        const item = inbox.take() as number;
        const from = Math.floor(item / 1e7);
        if (item % 1e7 !== nextOut[from]!++)
          throw new Error(`lane ${from} out of order at ${item}`);
        queued[from]!--;
      }
      const arrays = laneArrays(inbox);
      for (let l = 0; l < lanes; l++) {
        if (arrays[l]!.length > 2 * laneMost[l]! + 65) {
          throw new Error(`lane ${l} array ${arrays[l]!.length} slots, most queued ${laneMost[l]}`);
        }
      }
    }
    expect(laneArrays(inbox).every((a) => a.length <= 2 * capacity + 65)).toBe(true);
  }, 60_000);
});
