import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { RemoteMediaError } from './errors.ts';
import { defineNode } from './node-contract.ts';
import { PipelineRunner } from './pipeline-runner.ts';
import { RuntimeData } from './runtime-data.ts';
import { SessionOutputQueue } from './session-output-queue.ts';
import type { SessionOutput } from './transport.ts';

const item = (value: number) => RuntimeData.json(value);
const values = (outputs: (SessionOutput | undefined)[]) =>
  outputs.map((o) =>
    o === undefined ? 'end' : `${o.nodeId}:${String(o.data.kind === 'json' && o.data.value)}`,
  );

/** Lets every queued promise callback run (no timers: settles in a fixed number of turns). */
async function turns(count = 10): Promise<void> {
  for (let i = 0; i < count; i++) await Promise.resolve();
}

/** Records how a promise settled, without waiting for it. */
function watch<T>(promise: Promise<T>) {
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  promise.then(
    (value) => Object.assign(state, { settled: true, value }),
    (error: unknown) => Object.assign(state, { settled: true, error }),
  );
  return state;
}

function deferred() {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('SessionOutputQueue', () => {
  it('keeps order per lane and takes round-robin across lanes', async () => {
    const queue = new SessionOutputQueue(['a', 'b'], { capacity: 8 });
    for (const v of [1, 2, 3]) queue.push(0, item(v));
    for (const v of [10, 20]) queue.push(1, item(v));
    queue.endLane(0);
    queue.endLane(1);
    const got = [];
    for await (const output of queue) got.push(output);
    expect(values(got)).toEqual(['a:1', 'b:10', 'a:2', 'b:20', 'a:3']);
  });

  it('holds a producer back at capacity and lets it go as outputs are taken', async () => {
    const queue = new SessionOutputQueue(['a'], { capacity: 2 });
    expect(queue.push(0, item(1))).toBeUndefined();
    expect(queue.push(0, item(2))).toBeUndefined();
    const third = queue.push(0, item(3));
    expect(third).toBeInstanceOf(Promise);
    const waiting = watch(third!);
    await turns();
    expect(waiting.settled).toBe(false);
    expect(values([await queue.next()])).toEqual(['a:1']);
    await turns();
    expect([waiting.settled, waiting.error]).toEqual([true, undefined]);
    expect(queue.depth).toBe(2);
  });

  it('unbound() queues every waiting push at once and loses none of them', async () => {
    const queue = new SessionOutputQueue(['a'], { capacity: 1 });
    queue.push(0, item(1));
    const waits = [2, 3, 4].map((v) => watch(queue.push(0, item(v))!));
    queue.unbound();
    await turns();
    expect(waits.every((w) => w.settled && w.error === undefined)).toBe(true);
    expect(queue.push(0, item(5))).toBeUndefined();
    queue.endLane(0);
    const got = [];
    for await (const output of queue) got.push(output);
    expect(values(got)).toEqual(['a:1', 'a:2', 'a:3', 'a:4', 'a:5']);
  });

  it('serves many waiting next() calls in call order, and all of them see the end', async () => {
    const queue = new SessionOutputQueue(['a', 'b'], { capacity: 4 });
    const waiters = Array.from({ length: 5 }, () => watch(queue.next()));
    queue.push(1, item(1));
    queue.push(0, item(2));
    queue.push(1, item(3));
    await turns();
    expect(waiters.map((w) => w.settled)).toEqual([true, true, true, false, false]);
    expect(values(waiters.slice(0, 3).map((w) => w.value))).toEqual(['b:1', 'a:2', 'b:3']);
    queue.endLane(0);
    await turns();
    expect(waiters[3]!.settled).toBe(false); // lane b is still open
    queue.endLane(1);
    await turns();
    expect(waiters.slice(3).map((w) => [w.settled, w.value, w.error])).toEqual([
      [true, undefined, undefined],
      [true, undefined, undefined],
    ]);
  });

  it('reports the end only once the session has settled, and its error if it failed', async () => {
    const settled = deferred();
    const queue = new SessionOutputQueue(['a'], { settle: () => settled.promise });
    queue.push(0, item(1));
    queue.endLane(0);
    expect(values([await queue.next()])).toEqual(['a:1']);
    const end = watch(queue.next());
    await turns();
    expect(end.settled).toBe(false);
    const error = new RemoteMediaError('node_failed', 'cleanup failed');
    settled.reject(error);
    await turns();
    expect(end.error).toBe(error);
    await expect(queue.next()).rejects.toBe(error);
  });

  it('asks the session to settle once, however many calls wait for the end', async () => {
    let asked = 0;
    const queue = new SessionOutputQueue(['a'], {
      settle: () => {
        asked++;
        return Promise.resolve();
      },
    });
    const ends = [queue.next(), queue.next()];
    queue.endLane(0);
    expect(await Promise.all([...ends, queue.next()])).toEqual([undefined, undefined, undefined]);
    expect(await queue.next()).toBeUndefined();
    expect(asked).toBe(1);
  });

  it('a push after the end of its lane is refused and changes nothing', async () => {
    const queue = new SessionOutputQueue(['a', 'b']);
    queue.endLane(0);
    await expect(queue.push(0, item(1))).rejects.toThrow(/output of 'a' arrived after its end/);
    queue.endLane(0); // idempotent
    queue.endLane(1);
    expect(await queue.next()).toBeUndefined();
    await expect(queue.push(1, item(2))).rejects.toMatchObject({ kind: 'usage' });
    expect(await queue.next()).toBeUndefined();
  });

  it('an error after the delivered end changes nothing', async () => {
    const queue = new SessionOutputQueue(['a']);
    queue.endLane(0);
    expect(await queue.next()).toBeUndefined();
    queue.fail(new RemoteMediaError('aborted', 'too late'));
    expect(await queue.next()).toBeUndefined();
  });

  it('an error while the end is settling wins over the end', async () => {
    const settled = deferred();
    const queue = new SessionOutputQueue(['a'], { settle: () => settled.promise });
    queue.endLane(0);
    const end = watch(queue.next());
    const error = new RemoteMediaError('aborted', 'aborted while settling');
    queue.fail(error);
    settled.resolve();
    await turns();
    expect(end.error).toBe(error);
  });

  it('fail() rejects every waiting next() and push, drops what is queued, and the first error wins', async () => {
    const queue = new SessionOutputQueue(['a', 'b'], { capacity: 1 });
    queue.push(0, item(1));
    const push = watch(queue.push(0, item(2))!);
    const first = new RemoteMediaError('node_failed', 'first');
    queue.fail(first);
    queue.fail(new RemoteMediaError('aborted', 'second'));
    await turns();
    expect(push.error).toBe(first);
    await expect(queue.next()).rejects.toBe(first);
    await expect(queue.push(1, item(3))!).rejects.toBe(first);
    expect(queue.depth).toBe(0);

    const waiting = new SessionOutputQueue(['a']);
    const readers = [watch(waiting.next()), watch(waiting.next())];
    waiting.fail(first);
    await turns();
    expect(readers.map((r) => r.error)).toEqual([first, first]);
    waiting.endLane(0); // after a failure: ignored, not a second outcome
    await expect(waiting.next()).rejects.toBe(first);
  });

  it('next() racing close: a reader waiting when the input ends gets the rest, then the end', async () => {
    const queue = new SessionOutputQueue(['a'], { capacity: 1 });
    const reader = watch(queue.next());
    // The session closes: the output unbounds, the sink flushes two items and ends.
    queue.unbound();
    queue.push(0, item(1));
    queue.push(0, item(2));
    queue.endLane(0);
    await turns();
    expect(values([reader.value])).toEqual(['a:1']);
    expect(values([await queue.next(), await queue.next()])).toEqual(['a:2', 'end']);
  });

  it('the iterator throws the error once and is then done', async () => {
    const queue = new SessionOutputQueue(['a']);
    queue.push(0, item(1));
    const iterator = queue[Symbol.asyncIterator]();
    expect((await iterator.next()).done).toBe(false);
    const error = new RemoteMediaError('worker_lost', 'gone');
    queue.fail(error);
    await expect(iterator.next()).rejects.toBe(error);
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
  });

  it('names a lane that does not exist, and a capacity that cannot work', async () => {
    const queue = new SessionOutputQueue(['a']);
    await expect(queue.push(3, item(1))).rejects.toThrow(
      /no output lane 3: this session has 1 sinks/,
    );
    expect(() => queue.endLane(-1)).toThrow(/no output lane -1/);
    expect(() => new SessionOutputQueue(['a'], { capacity: 0 })).toThrow(
      /queueCapacity must be at least 1, found 0/,
    );
  });

  it('with no sinks at all, the end comes once the session settles', async () => {
    const settled = deferred();
    const queue = new SessionOutputQueue([], { settle: () => settled.promise });
    const end = watch(queue.next());
    await turns();
    expect(end.settled).toBe(false);
    settled.resolve();
    await turns();
    expect(end).toMatchObject({ settled: true, value: undefined });
  });

  it('a session with a queue capacity below 1 is refused, and its nodes are cleaned up', async () => {
    const cleaned: string[] = [];
    const Tracked = defineNode({
      type: 'Tracked',
      params: z.object({}),
      create: (_params, context) => ({
        process: (input) => input,
        cleanup: () => {
          cleaned.push(context.nodeId);
        },
      }),
    });
    const runner = new PipelineRunner({ nodes: [Tracked] });
    const manifest = {
      version: 'v1' as const,
      metadata: { name: 'tracked' },
      nodes: [{ id: 'only', node_type: 'Tracked', params: {} }],
    };
    await expect(runner.createStreamSession(manifest, { queueCapacity: 0 })).rejects.toThrow(
      /queueCapacity must be at least 1, found 0/,
    );
    expect(cleaned).toEqual(['only']);
  });
});
