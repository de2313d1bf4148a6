/**
 * Attack on node-call timing with one clock read per call while calls run back
 * to back (PipelineSession.runNode: the read that ends a call starts the next).
 * On a fake clock that only the nodes advance, each call of the timed node must
 * be recorded at exactly its own 10 ms whatever runs between calls: the
 * interrupt hook of another node, run by a barge-in trigger in this node's
 * output (its time is that node's, not this one's), a call that throws (the
 * earlier calls stay exact, the session fails with the node's error), stale
 * inputs dropped after an out-of-band interrupt, and an async call.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { defineNode, PipelineRunner, RuntimeData } from './internal.ts';
import type { SessionOutput } from './transport.ts';

const clock = { now: 0 };
afterEach(() => vi.restoreAllMocks());
function fakeClock(): void {
  clock.now = 0;
  vi.spyOn(performance, 'now').mockImplementation(() => clock.now);
}

/** 10 ms a call; input json {event: name} is answered with that event (a barge-in trigger). */
const Vad = defineNode({
  type: 'ClockVad',
  params: z.object({ throwAt: z.number().optional(), async: z.boolean().optional() }),
  create: (params) => ({
    async: params.async,
    process(input) {
      const work = () => {
        clock.now += 10;
        const value =
          input.kind === 'json' ? (input.value as { n: number; event?: string }) : undefined;
        if (value?.n === params.throwAt) throw new Error(`vad fails at ${value?.n}`);
        return value?.event ? RuntimeData.event(value.event) : input;
      };
      return params.async ? Promise.resolve().then(work) : work();
    },
  }),
});

/** Its interrupt hook takes 50 ms of the fake clock; its calls `cost` ms (1). */
const Tts = defineNode({
  type: 'ClockTts',
  params: z.object({ cost: z.number().default(1) }),
  create: (params) => ({
    process(input) {
      clock.now += params.cost;
      return input;
    },
    interrupt() {
      clock.now += 50;
    },
  }),
});
const runner = new PipelineRunner({ nodes: [Vad, Tts] });

function manifest(vadParams: Record<string, unknown> = {}, bargeIn = true, ttsCost = 1) {
  return {
    version: 'v1' as const,
    metadata: { name: 'clock' },
    nodes: [
      { id: 'vad', node_type: 'ClockVad', params: vadParams },
      { id: 'tts', node_type: 'ClockTts', params: { cost: ttsCost } },
    ],
    connections: [{ from: 'vad', to: 'tts' }],
    ...(bargeIn ? { bargeIn: { from: 'vad', on: 'speech_start', to: ['tts'] } } : {}),
  };
}

const input = (n: number, event?: string) => RuntimeData.json(event ? { n, event } : { n });

async function runAll(
  vadParams: Record<string, unknown>,
  inputs: RuntimeData[],
  bargeIn = true,
  ttsCost = 1,
) {
  fakeClock();
  const session = await runner.createStreamSession(manifest(vadParams, bargeIn, ttsCost), {
    queueCapacity: 64,
  });
  // All queued before the nodes run: the vad's calls come back to back.
  await Promise.all(inputs.map((item) => session.sendInput(item)));
  const closing = session.close();
  const outputs: SessionOutput[] = [];
  let failure: unknown;
  try {
    for await (const output of session) outputs.push(output);
    await closing;
  } catch (error) {
    failure = error;
  }
  closing.catch(() => {});
  const metrics = await session.metrics();
  return { outputs, failure, vad: metrics.find((m) => m.nodeId === 'vad')! };
}

describe('one clock read per call, attacked', () => {
  it("a barge-in trigger in the node's output runs another node's interrupt hook: not timed as the next call", async () => {
    const inputs = Array.from({ length: 8 }, (_, n) =>
      input(n, n === 2 || n === 5 ? 'speech_start' : undefined),
    );
    const { vad, failure } = await runAll({}, inputs);
    expect(failure).toBeUndefined();
    expect(vad.processingMs).toEqual({ p50: 10, p99: 10, mean: 10, total: 80 });
  });

  it('a call that throws: the calls before it are each timed 10 ms, the session fails with its error', async () => {
    const { vad, failure } = await runAll(
      { throwAt: 4 },
      Array.from({ length: 8 }, (_, n) => input(n)),
      false,
    );
    expect(failure).toMatchObject({ kind: 'node_failed' });
    expect(String((failure as Error & { cause?: unknown }).cause ?? failure)).toMatch(
      /vad fails at 4/,
    );
    expect(vad.processingMs).toMatchObject({ p50: 10, p99: 10, mean: 10, total: 40 });
  });

  it('async calls back to back are each timed 10 ms', async () => {
    // (The downstream node costs nothing here: it runs while an async call awaits,
    // and a call's wall time includes that, however it is read.)
    const { vad } = await runAll(
      { async: true },
      Array.from({ length: 6 }, (_, n) => input(n)),
      false,
      0,
    );
    expect(vad.processingMs).toEqual({ p50: 10, p99: 10, mean: 10, total: 60 });
  });

  it('an out-of-band interrupt between calls makes queued inputs stale: the calls that run are still 10 ms', async () => {
    fakeClock();
    const session = await runner.createStreamSession(
      { ...manifest({}, false), bargeIn: { to: ['vad'], staleLimitMs: 1e9 } },
      { queueCapacity: 64 },
    );
    // Queued with no await: the node has not run when the interrupt comes.
    const sent = Array.from({ length: 4 }, (_, n) => session.sendInput(input(n)));
    session.interrupt(42);
    sent.push(session.sendInput({ kind: 'control', signal: 'interrupt', timestampUs: 42 }));
    for (let n = 4; n < 8; n++) sent.push(session.sendInput(input(n)));
    await Promise.all(sent);
    const closing = session.close();
    const outputs: SessionOutput[] = [];
    for await (const output of session) outputs.push(output);
    await closing;
    const vad = (await session.metrics()).find((m) => m.nodeId === 'vad')!;
    const jsons = outputs
      .filter((o) => o.data.kind === 'json')
      .map((o) => (o.data.kind === 'json' ? (o.data.value as { n: number }).n : -1));
    expect(jsons).toEqual([4, 5, 6, 7]);
    expect(vad.processingMs).toMatchObject({ p50: 10, p99: 10, mean: 10, total: 40 });
  });
});
