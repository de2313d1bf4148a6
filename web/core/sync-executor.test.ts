import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { bySink, pipelineCases } from '../../tests/fixtures/pipeline-cases.ts';
import { defineNode } from './node-contract.ts';
import { PipelineRunner } from './pipeline-runner.ts';
import { RuntimeData } from './runtime-data.ts';
import { runSynchronously } from './sync-executor.ts';

/** Declared synchronous but lies: returns a promise. */
const Liar = defineNode({
  type: 'Liar',
  params: z.object({}),
  synchronous: true,
  create: () => ({ process: async (input) => input }),
});

describe('the synchronous fast path', () => {
  const runner = new PipelineRunner({ nodes: [Liar] });

  for (const c of pipelineCases) {
    it(`gives the streaming executor's outputs for ${c.name}`, async () => {
      expect(runner.canExecuteSync(c.manifest)).toBe(true);
      const sync = runSynchronously(runner.prepare(c.manifest), c.inputs);
      expect(bySink(sync)).toEqual(bySink(await runner.run(c.manifest, c.inputs)));
      expect(runner.executeBatchSync(c.manifest, c.inputs)).toEqual(sync.map((o) => o.data));
    });
  }

  it('fails with the node id, as the streaming executor does', () => {
    const manifest = pipelineCases[1]!.manifest;
    expect(() => runner.executeBatchSync(manifest, [RuntimeData.json('seven')])).toThrow(
      expect.objectContaining({ kind: 'node_failed', nodeId: 'calc' }),
    );
  });

  it('refuses pipelines with asynchronous node types before making any node', () => {
    const manifest = {
      version: 'v1' as const,
      metadata: { name: 'async' },
      nodes: [{ id: 'rs', node_type: 'Resample', params: { target_rate: 16000 } }],
      connections: [],
    };
    expect(runner.canExecuteSync(manifest)).toBe(false);
    expect(() => runner.executeBatchSync(manifest, [])).toThrow(
      expect.objectContaining({ kind: 'usage' }),
    );
  });

  it('a node that breaks its synchronous promise is a usage error naming it', () => {
    const manifest = {
      version: 'v1' as const,
      metadata: { name: 'liar' },
      nodes: [{ id: 'liar', node_type: 'Liar', params: {} }],
      connections: [],
    };
    expect(() => runner.executeBatchSync(manifest, [RuntimeData.json(1)])).toThrow(
      expect.objectContaining({ kind: 'usage', nodeId: 'liar' }),
    );
  });

  it('forwards control frames and events like the streaming executor', async () => {
    const manifest = pipelineCases[1]!.manifest;
    const inputs = [RuntimeData.json(1), RuntimeData.control('flush'), RuntimeData.event('x', 5)];
    expect(runner.executeBatchSync(manifest, inputs)).toEqual(
      await runner.executeBatch(manifest, inputs),
    );
  });
});
