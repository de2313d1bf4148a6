import { afterAll, describe, expect, it } from 'vitest';
import { bySink, pipelineCases } from '../../tests/fixtures/pipeline-cases.ts';
import { z } from 'zod';
import {
  type AudioData,
  defineNode,
  type Manifest,
  ManifestValidationError,
  PipelineRunner,
  RemoteMediaError,
  RuntimeData,
} from '../core/internal.ts';
import type { ChannelMode } from './channel/channel.ts';
import { createRuntime } from './runtime.ts';
import { defaultPipelineWorker } from './worker-link.ts';

const calc = (id: string, operand: number, executor?: 'main' | 'worker') => ({
  id,
  node_type: 'Calculator',
  params: { operation: 'add', operand },
  ...(executor ? { executor } : {}),
});

/** worker -> page -> worker -> page: four islands' worth of crossings in a chain. */
const zigzag: Manifest = {
  version: 'v1',
  metadata: { name: 'zigzag' },
  nodes: [calc('a', 1), calc('b', 10, 'main'), calc('c', 100), calc('d', 1000, 'main')],
  connections: [
    { from: 'a', to: 'b' },
    { from: 'b', to: 'c' },
    { from: 'c', to: 'd' },
  ],
};

/** Audio through Resample (worker), Gain (page) and Rebuffer (worker), which pads its tail at the end. */
const audioChain: Manifest = {
  version: 'v1',
  metadata: { name: 'audio across islands' },
  nodes: [
    { id: 'resample', node_type: 'Resample', params: { target_rate: 16000 } },
    { id: 'gain', node_type: 'Gain', params: { gain_db: -6 }, executor: 'main' },
    { id: 'frames', node_type: 'Rebuffer', params: { frame_size: 400 } },
  ],
  connections: [
    { from: 'resample', to: 'gain' },
    { from: 'gain', to: 'frames' },
  ],
};

/** Known only to the page, so "auto" places it there; fails on 13. */
const FailOn13 = defineNode({
  type: 'FailOn13',
  params: z.object({}),
  create: () => ({
    process(input) {
      if (input.kind === 'json' && input.value === 13) throw new Error('13 is unlucky');
      return input;
    },
  }),
});

const withPageNode: Manifest = {
  version: 'v1',
  metadata: { name: 'page node between worker nodes' },
  nodes: [calc('a', 1), { id: 'boom', node_type: 'FailOn13', params: {} }, calc('c', 100)],
  connections: [
    { from: 'a', to: 'boom' },
    { from: 'boom', to: 'c' },
  ],
};

function sine(length: number, rate: number): AudioData {
  const samples = Float32Array.from(
    { length },
    (_, i) => 0.5 * Math.sin((2 * Math.PI * 440 * i) / rate),
  );
  return RuntimeData.audio(samples, rate, 1);
}

for (const channels of ['rings', 'messages'] as ChannelMode[]) {
  describe(`createRuntime with ${channels} between islands`, async () => {
    const runtime = await createRuntime({ channels, nodes: [FailOn13] });
    afterAll(() => runtime.dispose());
    const local = new PipelineRunner();

    it(`links islands by ${channels}`, () => {
      expect(runtime.channelMode).toBe(channels);
    });

    it('a chain crossing page and worker three times gives the in-process outputs, in order', async () => {
      const inputs = Array.from({ length: 200 }, (_, i) => RuntimeData.json(i));
      const outputs = await runtime.run(zigzag, inputs);
      expect(outputs).toEqual(await local.run(zigzag, inputs));
      expect(outputs.at(-1)).toEqual({ nodeId: 'd', data: RuntimeData.json(199 + 1111) });
    });

    for (const c of pipelineCases) {
      it(`runs ${c.name} in the worker with the Node outputs`, async () => {
        expect(bySink(await runtime.run(c.manifest, c.inputs))).toEqual(bySink(c.expected));
      });
    }

    it('end of stream crosses every island: the last, padded frame arrives, then the end', async () => {
      const session = await runtime.stream(audioChain);
      const chunks = [4800, 3000, 123, 9000].map((n) => sine(n, 48000));
      const reading = (async () => {
        const frames: AudioData[] = [];
        for await (const { data } of session) frames.push(data as AudioData);
        return frames;
      })();
      for (const chunk of chunks) await session.sendInput(chunk);
      await session.close();
      const frames = await reading;
      const expected = await local.run(audioChain, chunks);
      expect(frames.length).toBe(expected.length);
      // 16923 input samples at 48 kHz are 5641 at 16 kHz: 14 full frames and a padded one.
      expect(frames.length).toBe(Math.ceil(5641 / 400));
      expect(frames.map((f) => f.samples)).toEqual(
        expected.map((o) => (o.data as AudioData).samples),
      );
      expect(session.isActive()).toBe(false);
    });

    it('a node that throws in the worker fails the session with its id', async () => {
      const session = await runtime.stream(zigzag);
      await session.sendInput(RuntimeData.json(1));
      expect(await session.recvOutput()).toEqual({ nodeId: 'd', data: RuntimeData.json(1112) });
      await session.sendInput(RuntimeData.text('one'));
      const error = await session.recvOutput().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RemoteMediaError);
      expect(error).toMatchObject({ kind: 'node_failed', nodeId: 'a' });
      expect(session.isActive()).toBe(false);
      await expect(session.sendInput(RuntimeData.json(2))).rejects.toBe(error);
    });

    it('a node that throws on the page fails the session with its id too', async () => {
      const session = await runtime.stream(withPageNode);
      await session.sendInput(RuntimeData.json(1));
      expect(await session.recvOutput()).toEqual({ nodeId: 'c', data: RuntimeData.json(102) });
      await session.sendInput(RuntimeData.json(12));
      await expect(session.close()).rejects.toMatchObject({ kind: 'node_failed', nodeId: 'boom' });
    });

    it('an abort ends a session promptly, and the runtime runs the next one', async () => {
      const controller = new AbortController();
      const session = await runtime.stream(zigzag, { signal: controller.signal });
      await session.sendInput(RuntimeData.json(1));
      const pending = session.recvOutput().then(() => session.recvOutput());
      controller.abort('user pressed stop');
      await expect(pending).rejects.toMatchObject({ kind: 'aborted' });
      expect(await runtime.execute(zigzag, RuntimeData.json(0))).toEqual(RuntimeData.json(1111));
    });

    it('reports per-node metrics for the pipeline nodes of every island', async () => {
      const session = await runtime.stream(zigzag);
      for (let i = 0; i < 10; i++) await session.sendInput(RuntimeData.json(i));
      for (let i = 0; i < 10; i++) await session.recvOutput();
      const metrics = await session.metrics();
      expect(metrics.map((m) => m.nodeId).sort()).toEqual(['a', 'b', 'c', 'd']);
      for (const m of metrics) expect(m.itemsIn).toBe(10);
      await session.close();
    });
  });
}

describe('the runtime when a worker goes away', () => {
  it('terminating the pipeline worker mid-stream fails the session instead of hanging', async () => {
    const workers: Worker[] = [];
    const runtime = await createRuntime({
      createWorker: () => {
        const worker = defaultPipelineWorker();
        workers.push(worker);
        return worker;
      },
    });
    const session = await runtime.stream(zigzag);
    await session.sendInput(RuntimeData.json(1));
    expect(await session.recvOutput()).toMatchObject({ nodeId: 'd' });
    const waiting = session.recvOutput();
    workers[0]!.terminate();
    await expect(waiting).rejects.toMatchObject({ kind: 'worker_lost' });
    await expect(session.sendInput(RuntimeData.json(2))).rejects.toMatchObject({
      kind: 'worker_lost',
    });
    expect(session.isActive()).toBe(false);
    // The next session gets a new worker.
    expect(await runtime.execute(zigzag, RuntimeData.json(0))).toEqual(RuntimeData.json(1111));
    expect(workers).toHaveLength(2);
    runtime.dispose();
  });

  it('disposing the runtime ends its sessions and refuses new ones', async () => {
    const runtime = await createRuntime();
    const session = await runtime.stream(zigzag);
    const waiting = session.recvOutput();
    runtime.dispose();
    await expect(waiting).rejects.toMatchObject({ kind: 'session_closed' });
    await expect(runtime.stream(zigzag)).rejects.toMatchObject({ kind: 'session_closed' });
  });
});

describe('manifest errors from the runtime keep their paths', async () => {
  const runtime = await createRuntime();
  afterAll(() => runtime.dispose());

  it('params of a worker node are checked by the worker, with the path in the whole manifest', async () => {
    const bad = structuredClone(zigzag);
    bad.nodes[2]!.params = { operation: 'add', operand: 'five' };
    const error = await runtime.validate(bad).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ManifestValidationError);
    expect((error as ManifestValidationError).issues[0]).toMatchObject({
      code: 'invalid_params',
      path: 'nodes[2].params.operand',
    });
  });

  it('an executor this runtime cannot serve is an invalid_placement naming the node', async () => {
    const bad = structuredClone(zigzag);
    // SileroVAD is registered in the pipeline worker only, not on the page.
    bad.nodes[1] = { id: 'b', node_type: 'SileroVAD', params: {}, executor: 'main' };
    const error = (await runtime.validate(bad).catch((e: unknown) => e)) as ManifestValidationError;
    expect(error.issues[0]).toMatchObject({
      code: 'invalid_placement',
      path: 'nodes[1].executor',
      nodeId: 'b',
    });
  });

  it('a node asking for a container without a gateway is an invalid_placement at its docker field', async () => {
    const bad = structuredClone(zigzag);
    bad.nodes[1] = {
      id: 'b',
      node_type: 'PythonNode',
      params: { source: 'from remotemedia import Node\nclass N(Node): pass' },
      docker: { resource_limits: { memory_mb: 64 } },
    };
    const error = (await runtime.validate(bad).catch((e: unknown) => e)) as ManifestValidationError;
    expect(error.issues[0]).toMatchObject({
      code: 'invalid_placement',
      path: 'nodes[1].docker',
      nodeId: 'b',
    });
    expect(error.issues[0]!.message).toContain('"remote"');
  });

  it('an unknown node type lists the types of the page and the worker', async () => {
    const bad = structuredClone(zigzag);
    bad.nodes[0]!.node_type = 'Nope';
    const error = (await runtime.validate(bad).catch((e: unknown) => e)) as ManifestValidationError;
    expect(error.issues[0]).toMatchObject({
      code: 'unknown_node_type',
      path: 'nodes[0].node_type',
    });
    expect(error.issues[0]!.message).toContain('SileroVAD');
  });
});

describe('the same manifest isolated (rings) and not (postMessage)', async () => {
  const rings = await createRuntime({ channels: 'rings' });
  const messages = await createRuntime({ channels: 'messages' });
  afterAll(() => {
    rings.dispose();
    messages.dispose();
  });

  it('gives identical outputs for audio crossing islands', async () => {
    const chunks = [960, 4410, 17, 20000].map((n) => sine(n, 44100));
    const viaRings = await rings.run(audioChain, chunks);
    const viaMessages = await messages.run(audioChain, chunks);
    expect(viaRings.length).toBeGreaterThan(10);
    expect(viaMessages).toEqual(viaRings);
  });
});

describe('recvOutput polls the ring only for a caller awaiting the reply to its one input', async () => {
  const runtime = await createRuntime({ channels: 'rings' });
  afterAll(() => runtime.dispose());
  // 400-sample frames from the worker: four 100-sample inputs make one output.
  const framesInTheWorker: Manifest = {
    version: 'v1',
    metadata: { name: 'frames in the worker' },
    nodes: [{ id: 'frames', node_type: 'Rebuffer', params: { frame_size: 400 } }],
    connections: [],
  };
  const block = (n: number, i: number) =>
    RuntimeData.audio(new Float32Array(n).fill(i / 64), 48000, 1);

  it('round trips poll once each; a read with no input since the last output does not', async () => {
    const polls = { count: 0 };
    const { RingChannelReader } = await import('./channel/ring-channel.ts');
    const poll = RingChannelReader.prototype.poll;
    RingChannelReader.prototype.poll = function (this: InstanceType<typeof RingChannelReader>) {
      polls.count++;
      return poll.call(this);
    };
    try {
      const session = await runtime.stream(framesInTheWorker);
      for (let i = 0; i < 5; i++) {
        await session.sendInput(block(400, i));
        expect((await session.recvOutput())?.data).toEqual(block(400, i));
      }
      expect(polls.count).toBe(5);
      // Four inputs ahead (not one): no spin for their output.
      for (let i = 0; i < 4; i++) await session.sendInput(block(100, 7));
      expect((await session.recvOutput())?.data).toEqual(block(400, 7));
      // No input since that output: a caller draining, not awaiting a reply.
      const next = session.recvOutput();
      for (let i = 0; i < 4; i++) await session.sendInput(block(100, 9));
      expect((await next)?.data).toEqual(block(400, 9));
      expect(polls.count).toBe(5);
      await session.close();
    } finally {
      RingChannelReader.prototype.poll = poll;
    }
  });
});
