import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import type { RemoteMediaError } from './errors.ts';
import { defineNode, type NodeInstance } from './node-contract.ts';
import { PipelineRunner } from './pipeline-runner.ts';
import { type JsonValue, RuntimeData } from './runtime-data.ts';
import type { SessionOutput } from './transport.ts';

/** Wraps each JSON input as {tag, value}: shows which path an output took. */
const Tag = defineNode({
  type: 'Tag',
  params: z.object({ tag: z.string() }),
  accepts: ['json'],
  create: ({ tag }) => ({
    process: (input) => RuntimeData.json({ tag, value: (input as { value: JsonValue }).value }),
  }),
});

/** Holds inputs back until a flush (or the end of the stream), then emits them as one array. */
const Collect = defineNode({
  type: 'Collect',
  params: z.object({}),
  create: () => {
    let held: JsonValue[] = [];
    return {
      process(input) {
        if (input.kind === 'json') held.push(input.value);
      },
      flush() {
        const out = RuntimeData.json(held);
        held = [];
        return out;
      },
    };
  },
});

/** Emits `count` copies of its input, one at a time, from an async generator. */
const Repeat = defineNode({
  type: 'Repeat',
  params: z.object({ count: z.int().min(0) }),
  create: ({ count }) => ({
    async *process(input) {
      for (let i = 0; i < count; i++) {
        await Promise.resolve();
        yield input;
      }
    },
  }),
});

/** Fails on a chosen value; records its lifecycle calls into a shared log. */
const log: string[] = [];
const Probe = defineNode({
  type: 'Probe',
  params: z.object({
    failOn: z.number().optional(),
    failInit: z.boolean().default(false),
    hang: z.boolean().default(false),
  }),
  create: ({ failOn, failInit, hang }, { nodeId }): NodeInstance => ({
    initialize() {
      log.push(`${nodeId}:init`);
      if (failInit) throw new Error('no model file');
    },
    async process(input, { signal }) {
      if (hang)
        await new Promise((_, reject) =>
          signal.addEventListener('abort', () => reject(signal.reason)),
        );
      if (input.kind === 'json' && input.value === failOn) throw new Error(`cannot take ${failOn}`);
      return input;
    },
    cleanup() {
      log.push(`${nodeId}:cleanup`);
    },
  }),
});

const runner = new PipelineRunner({ nodes: [Tag, Collect, Repeat, Probe] });

const manifest = (
  nodes: [string, string, Record<string, unknown>?][],
  connections: [string, string][] = [],
) => ({
  version: 'v1' as const,
  metadata: { name: 'test' },
  nodes: nodes.map(([id, node_type, params]) => ({ id, node_type, params: params ?? {} })),
  connections: connections.map(([from, to]) => ({ from, to })),
});

const values = (outputs: SessionOutput[]) =>
  outputs.map((o) => (o.data.kind === 'json' ? o.data.value : o.data.kind));

describe('PipelineSession (streaming executor)', () => {
  it('fan-out and fan-in deliver every item, in order per edge, through tiny queues', async () => {
    const diamond = manifest(
      [
        ['src', 'PassThrough'],
        ['a', 'Tag', { tag: 'a' }],
        ['b', 'Tag', { tag: 'b' }],
        ['join', 'PassThrough'],
      ],
      [
        ['src', 'a'],
        ['src', 'b'],
        ['a', 'join'],
        ['b', 'join'],
      ],
    );
    const session = await runner.createStreamSession(diamond, { queueCapacity: 2 });
    const n = 300;
    const sending = (async () => {
      for (let i = 0; i < n; i++) await session.sendInput(RuntimeData.json(i));
      await session.close();
    })();
    const outputs: SessionOutput[] = [];
    for await (const output of session) outputs.push(output);
    await sending;
    const byTag = (tag: string) =>
      values(outputs)
        .filter((v) => (v as { tag: string }).tag === tag)
        .map((v) => (v as { value: number }).value);
    const expected = Array.from({ length: n }, (_, i) => i);
    expect(byTag('a')).toEqual(expected);
    expect(byTag('b')).toEqual(expected);
    expect(outputs.every((o) => o.nodeId === 'join')).toBe(true);
    const metrics = await session.metrics();
    expect(metrics.find((m) => m.nodeId === 'join')).toMatchObject({
      itemsIn: 2 * n,
      itemsOut: 2 * n,
    });
    expect(Math.max(...metrics.map((m) => m.queueHighWater))).toBeLessThanOrEqual(2 * 2);
  });

  it('several sources all receive the input; several sinks each report their id', async () => {
    const twoSources = manifest([
      ['x', 'Tag', { tag: 'x' }],
      ['y', 'Tag', { tag: 'y' }],
    ]);
    const outputs = await runner.run(twoSources, [RuntimeData.json(1)]);
    expect(outputs.map((o) => o.nodeId).sort()).toEqual(['x', 'y']);
  });

  it('backpressure: a producer waits when nobody reads, and continues when read', async () => {
    const session = await runner.createStreamSession(manifest([['p', 'PassThrough']]), {
      queueCapacity: 1,
    });
    let accepted = 0;
    const sending = (async () => {
      for (let i = 0; i < 50; i++) {
        await session.sendInput(RuntimeData.json(i));
        accepted++;
      }
      await session.close();
    })();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(accepted).toBeLessThanOrEqual(4);
    const outputs: SessionOutput[] = [];
    for await (const output of session) outputs.push(output);
    await sending;
    expect(values(outputs)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('close ends the input: nodes flush, outputs drain, then recvOutput gives undefined', async () => {
    const session = await runner.createStreamSession(manifest([['c', 'Collect']]));
    await session.sendInput(RuntimeData.json(1));
    await session.sendInput(RuntimeData.json(2));
    await session.sendInput(RuntimeData.control('flush'));
    await session.sendInput(RuntimeData.json(3));
    expect(session.isActive()).toBe(true);
    await session.close();
    expect(session.isActive()).toBe(false);
    const outputs: SessionOutput[] = [];
    for await (const output of session) outputs.push(output);
    expect(values(outputs)).toEqual([[1, 2], 'control', [3]]);
    expect(await session.recvOutput()).toBeUndefined();
    await expect(session.sendInput(RuntimeData.json(4))).rejects.toMatchObject({
      kind: 'session_closed',
    });
  });

  it('streams the outputs of async generators and arrays', async () => {
    const outputs = await runner.run(manifest([['r', 'Repeat', { count: 3 }]]), [
      RuntimeData.json('x'),
    ]);
    expect(values(outputs)).toEqual(['x', 'x', 'x']);
  });

  it('events pass by nodes that do not accept them, in order', async () => {
    const outputs = await runner.run(manifest([['t', 'Tag', { tag: 't' }]]), [
      RuntimeData.json(1),
      RuntimeData.event('speech_start', 500),
      RuntimeData.json(2),
    ]);
    expect(outputs.map((o) => o.data)).toEqual([
      RuntimeData.json({ tag: 't', value: 1 }),
      RuntimeData.event('speech_start', 500),
      RuntimeData.json({ tag: 't', value: 2 }),
    ]);
  });

  it('input of a kind a node does not accept fails the session, naming node and kinds', async () => {
    const error = (await runner
      .run(manifest([['t', 'Tag', { tag: 't' }]]), [RuntimeData.text('hello')])
      .catch((e) => e)) as RemoteMediaError;
    expect(error).toMatchObject({ kind: 'node_failed', nodeId: 't' });
    expect(error.cause).toMatchObject({ kind: 'invalid_data' });
    expect(error.message).toContain('expects json input, received text');
  });

  it('a node that throws ends the session with its id and cause; every node is cleaned up', async () => {
    log.length = 0;
    const chain = manifest(
      [
        ['first', 'Probe'],
        ['bad', 'Probe', { failOn: 3 }],
        ['last', 'Probe'],
      ],
      [
        ['first', 'bad'],
        ['bad', 'last'],
      ],
    );
    const session = await runner.createStreamSession(chain);
    for (const v of [1, 2, 3]) await session.sendInput(RuntimeData.json(v));
    const received: unknown[] = [];
    const error = await (async () => {
      for await (const output of session) received.push(output);
    })().catch((e) => e);
    expect(error).toMatchObject({ kind: 'node_failed', nodeId: 'bad' });
    expect(error.message).toBe("Node 'bad' failed: cannot take 3");
    expect((error as Error).cause).toBeInstanceOf(Error);
    expect(received.length).toBeLessThanOrEqual(2);
    await expect(session.sendInput(RuntimeData.json(4))).rejects.toBe(error);
    await expect(session.close()).rejects.toBe(error);
    expect(session.isActive()).toBe(false);
    expect(log.filter((l) => l.endsWith('cleanup')).sort()).toEqual([
      'bad:cleanup',
      'first:cleanup',
      'last:cleanup',
    ]);
  });

  it('a node that fails to initialize fails the start; nodes already made are cleaned up', async () => {
    log.length = 0;
    const chain = manifest(
      [
        ['ok', 'Probe'],
        ['broken', 'Probe', { failInit: true }],
      ],
      [['ok', 'broken']],
    );
    await expect(runner.createStreamSession(chain)).rejects.toMatchObject({
      kind: 'node_failed',
      nodeId: 'broken',
      message: "Node 'broken' failed to initialize: no model file",
    });
    expect(log).toEqual(['ok:init', 'broken:init', 'broken:cleanup', 'ok:cleanup']);
  });

  it('abort stops a stuck session at once: pending receive and send reject, nodes see the signal', async () => {
    const controller = new AbortController();
    const session = await runner.createStreamSession(manifest([['h', 'Probe', { hang: true }]]), {
      signal: controller.signal,
      queueCapacity: 1,
    });
    const sends = [0, 1, 2, 3].map((v) => session.sendInput(RuntimeData.json(v)));
    const receiving = session.recvOutput();
    await new Promise((resolve) => setTimeout(resolve, 10));
    const aborted = vi.fn();
    receiving.catch(aborted);
    expect(aborted).not.toHaveBeenCalled();
    controller.abort(new Error('user pressed stop'));
    await expect(receiving).rejects.toMatchObject({
      kind: 'aborted',
      message: 'Aborted: user pressed stop',
    });
    const settled = await Promise.allSettled(sends);
    expect(settled.at(-1)).toMatchObject({ status: 'rejected', reason: { kind: 'aborted' } });
    await expect(session.close()).rejects.toMatchObject({ kind: 'aborted' });
    expect(session.isActive()).toBe(false);
  });

  it('an already aborted signal refuses to start', async () => {
    await expect(
      runner.createStreamSession(manifest([['p', 'PassThrough']]), {
        signal: AbortSignal.abort('late'),
      }),
    ).rejects.toMatchObject({ kind: 'aborted', message: 'Aborted: late' });
  });

  it('reports per-node metrics, with the real-time factor for audio', async () => {
    const session = await runner.createStreamSession(manifest([['p', 'PassThrough']]));
    const second = RuntimeData.audio(new Float32Array(16000), 16000, 1);
    for (let i = 0; i < 4; i++) await session.sendInput(second);
    await session.close();
    for await (const _ of session) {
      // drain
    }
    const [m] = await session.metrics();
    expect(m).toMatchObject({
      nodeId: 'p',
      itemsIn: 4,
      itemsOut: 4,
      audioSeconds: 4,
      queueDepth: 0,
    });
    expect(m!.processingMs.p99).toBeGreaterThanOrEqual(m!.processingMs.p50);
    expect(m!.realTimeFactor).toBeCloseTo(m!.processingMs.total / 1000 / 4, 9);
  });
});

describe('node-call timing: one clock read per call while a node streams', () => {
  /**
   * A fake clock: each read counted, each call of the node below 10 ms long by it,
   * and nothing else advances it, so every call's recorded time must be exactly 10.
   */
  const clock = { now: 0, reads: 0 };
  /** The clock reads made before each call, as the node saw them. */
  let readsAtCalls: number[] = [];
  const TenMs = defineNode({
    type: 'TenMs',
    params: z.object({}),
    create: () => ({
      process(input) {
        readsAtCalls.push(clock.reads);
        clock.now += 10;
        return input;
      },
    }),
  });
  const timed = new PipelineRunner({ nodes: [TenMs, Tag] });

  async function run(
    send: (session: Awaited<ReturnType<typeof timed.createStreamSession>>) => Promise<void>,
    nodes: [string, string, Record<string, unknown>?][],
    connections: [string, string][] = [],
  ) {
    clock.now = 0;
    clock.reads = 0;
    readsAtCalls = [];
    const spy = vi.spyOn(performance, 'now').mockImplementation(() => {
      clock.reads++;
      return clock.now;
    });
    try {
      const session = await timed.createStreamSession(manifest(nodes, connections), {
        queueCapacity: 64,
      });
      await send(session);
      await session.close();
      const outputs: SessionOutput[] = [];
      for await (const output of session) outputs.push(output);
      return { outputs, metrics: await session.metrics() };
    } finally {
      spy.mockRestore();
    }
  }

  it('inputs queued ahead: each call after the first costs one read, and each is still timed 10 ms', async () => {
    const { outputs, metrics } = await run(
      async (session) => {
        // All queued before the node's loop runs: its calls come back to back.
        await Promise.all(
          Array.from({ length: 8 }, (_, i) => session.sendInput(RuntimeData.json(i))),
        );
      },
      [['t', 'TenMs']],
    );
    expect(values(outputs)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const between = readsAtCalls.slice(1).map((reads, i) => reads - readsAtCalls[i]!);
    expect(between).toEqual([1, 1, 1, 1, 1, 1, 1]);
    expect(metrics[0]!.processingMs).toEqual({ p50: 10, p99: 10, mean: 10, total: 80 });
  });

  it('a node that waited for each input times each call from its own start (two reads)', async () => {
    const { metrics } = await run(
      async (session) => {
        for (let i = 0; i < 5; i++) {
          await session.sendInput(RuntimeData.json(i));
          await new Promise((resolve) => setTimeout(resolve, 0)); // the node drains and waits
        }
      },
      [['t', 'TenMs']],
    );
    const between = readsAtCalls.slice(1).map((reads, i) => reads - readsAtCalls[i]!);
    expect(between).toEqual([2, 2, 2, 2]);
    expect(metrics[0]!.processingMs).toEqual({ p50: 10, p99: 10, mean: 10, total: 50 });
  });

  it('a chain streams too: every node is timed 10 ms a call, with one read per call after the first', async () => {
    const { outputs, metrics } = await run(
      async (session) => {
        await Promise.all(
          Array.from({ length: 6 }, (_, i) => session.sendInput(RuntimeData.json(i))),
        );
      },
      [
        ['a', 'TenMs'],
        ['b', 'TenMs'],
        ['tag', 'Tag', { tag: 'x' }],
      ],
      [
        ['a', 'b'],
        ['b', 'tag'],
      ],
    );
    expect(values(outputs)).toHaveLength(6);
    for (const m of metrics.filter((m) => m.nodeId !== 'tag')) {
      expect(m.processingMs).toMatchObject({ p50: 10, p99: 10, total: 60 });
    }
    // 12 calls of TenMs; the two first calls (a's, b's) read twice, the rest once
    // each at most (a wait between calls reads twice; there may be some here).
    expect(clock.reads).toBeLessThan(2 * 12 + 2 * 6);
  });
});
