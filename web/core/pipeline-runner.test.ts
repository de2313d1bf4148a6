import { describe, expect, it } from 'vitest';
import { bySink, pipelineCases } from '../../tests/fixtures/pipeline-cases.ts';
import { PipelineRunner } from './pipeline-runner.ts';
import { RuntimeData, type TextData } from './runtime-data.ts';

describe('PipelineRunner', () => {
  const runner = new PipelineRunner();

  for (const c of pipelineCases) {
    it(`runs ${c.name}`, async () => {
      const outputs = await runner.run(c.manifest, c.inputs);
      expect(bySink(outputs)).toEqual(bySink(c.expected));
    });
  }

  it('runs the 3-node example given as JSON text, through executeBatch', async () => {
    const manifest = JSON.stringify(pipelineCases[1]!.manifest);
    const outputs = await runner.executeBatch(
      manifest,
      [1, 2, 3].map((v) => RuntimeData.json(v)),
    );
    expect(outputs.map((o) => (o.kind === 'json' ? o.value : o.kind))).toEqual([6, 7, 8]);
  });

  it('executeUnary returns the single output of one input', async () => {
    const out = await runner.executeUnary(pipelineCases[1]!.manifest, RuntimeData.json([1, 2, 3]));
    expect(out).toEqual(RuntimeData.json([6, 7, 8]));
  });

  it('executeUnary rejects a pipeline that gives several outputs, saying what to use', async () => {
    const fanOut = pipelineCases[2]!.manifest;
    await expect(runner.executeUnary(fanOut, RuntimeData.json(1))).rejects.toMatchObject({
      kind: 'usage',
      message: expect.stringContaining('executeBatch'),
    });
  });

  it('a prepared pipeline runs many times without validating again', async () => {
    const prepared = runner.prepare(pipelineCases[1]!.manifest);
    for (const value of [1, 10, 100]) {
      expect(await runner.executeUnary(prepared, RuntimeData.json(value))).toEqual(
        RuntimeData.json(value + 5),
      );
    }
  });

  it('a bad input value fails the batch with a typed error naming the node', async () => {
    await expect(
      runner.executeBatch(pipelineCases[1]!.manifest, [RuntimeData.json('six')]),
    ).rejects.toMatchObject({ kind: 'node_failed', nodeId: 'calc' });
  });

  it('an input that is not RuntimeData fails the batch instead of hanging', async () => {
    const bad = { kind: 'audio', samples: new Float32Array(3), sampleRate: 16000, channels: 2 };
    await expect(
      runner.executeBatch(pipelineCases[0]!.manifest, [bad as RuntimeData]),
    ).rejects.toMatchObject({ kind: 'invalid_data', path: 'samples.length' });
  });

  it('runs with the original names only: executeUnary and createStreamSession', async () => {
    expect(await runner.executeUnary(pipelineCases[1]!.manifest, RuntimeData.json(0))).toEqual(
      RuntimeData.json(5),
    );
    // The transport interface's names are the transports' (Runtime, RemoteProxyClient).
    expect('execute' in runner || 'stream' in runner).toBe(false);
    const session = await runner.createStreamSession(pipelineCases[1]!.manifest);
    await session.sendInput(RuntimeData.json(1));
    expect(await session.recvOutput()).toEqual({ nodeId: 'pass2', data: RuntimeData.json(6) });
    await session.close();
    expect(await session.recvOutput()).toBeUndefined();
    expect(session.isActive()).toBe(false);
  });

  it('user-registered node types run beside the built-ins', async () => {
    const { z } = await import('zod');
    const { defineNode } = await import('./node-contract.ts');
    const Upper = defineNode({
      type: 'Upper',
      params: z.object({}),
      accepts: ['text'],
      create: () => ({
        process: (input) => RuntimeData.text((input as TextData).text.toUpperCase()),
      }),
    });
    const custom = new PipelineRunner({ nodes: [Upper] });
    const out = await custom.executeUnary(
      {
        version: 'v1',
        metadata: { name: 'u' },
        nodes: [{ id: 'u', node_type: 'Upper', params: {} }],
        connections: [],
      },
      RuntimeData.text('hello'),
    );
    expect(out).toEqual(RuntimeData.text('HELLO'));
    expect(() => new PipelineRunner({ nodes: [Upper, Upper] })).toThrow(/already registered/);
  });
});

describe('PipelineRunner.prepare', () => {
  it('validates a manifest text once and reuses it; invalid text fails every time', () => {
    const runner = new PipelineRunner();
    const text = JSON.stringify(pipelineCases[1]!.manifest);
    expect(runner.prepare(text)).toBe(runner.prepare(text));
    const bad = text.replace('"add"', '"pow"');
    expect(() => runner.prepare(bad)).toThrow(/params.operation/);
    expect(() => runner.prepare(bad)).toThrow(/params.operation/);
  });

  it('validates a manifest object on every call, since objects can change', () => {
    const runner = new PipelineRunner();
    const manifest = structuredClone(pipelineCases[1]!.manifest);
    runner.prepare(manifest);
    manifest.nodes[1]!.params = { operation: 'pow', operand: 1 };
    expect(() => runner.prepare(manifest)).toThrow(/params.operation/);
  });
});
