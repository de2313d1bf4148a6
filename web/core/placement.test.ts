import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Manifest } from './manifest.ts';
import { defineNode } from './node-contract.ts';
import { CALLER, planPlacement } from './placement.ts';
import { PipelineRunner } from './pipeline-runner.ts';
import type { PipelineSession, SinkPort } from './pipeline-session.ts';
import { type JsonValue, RuntimeData } from './runtime-data.ts';
import type { SessionOutput } from './transport.ts';

/** Emits {from, value}: shows that fan-in still sees the real upstream node's id. */
const From = defineNode({
  type: 'From',
  params: z.object({}),
  create: () => ({
    process: (input, context) =>
      RuntimeData.json({
        from: context.from ?? null,
        value: (input as { value: JsonValue }).value,
      }),
  }),
});

/** a(worker) -> b(main) -> c(worker), a -> c, c and b -> d(main): edges both ways. */
const manifest: Manifest = {
  version: 'v1',
  metadata: { name: 'zigzag' },
  nodes: [
    { id: 'a', node_type: 'Calculator', params: { operation: 'add', operand: 1 } },
    {
      id: 'b',
      node_type: 'Calculator',
      params: { operation: 'multiply', operand: 10 },
      executor: 'main',
    },
    { id: 'c', node_type: 'From', params: {} },
    { id: 'd', node_type: 'From', params: {}, executor: 'main' },
  ],
  connections: [
    { from: 'a', to: 'b' },
    { from: 'b', to: 'c' },
    { from: 'a', to: 'c' },
    { from: 'c', to: 'd' },
    { from: 'b', to: 'd' },
  ],
};

const runner = new PipelineRunner({ nodes: [From] });
const placeOf = (node: { executor?: string }) => (node.executor === 'main' ? 'main' : 'worker');

/**
 * Runs every island as its own session in this thread, linked through the planned
 * channels (in-memory queues standing in for rings), and collects the outputs.
 */
async function runIslands(inputs: RuntimeData[]): Promise<SessionOutput[]> {
  const plan = planPlacement(runner.prepare(manifest), placeOf);
  const feeds = new Map<number, { session: PipelineSession; sources: readonly string[] }>();
  const outputs: SessionOutput[] = [];
  const ports = new Map<string, Map<string, SinkPort>>();
  for (const island of plan.islands) {
    const islandPorts = new Map<string, SinkPort>();
    for (const { channel, sink } of island.outputs) {
      const { to, node } = plan.channels[channel]!;
      islandPorts.set(sink, {
        push: (data) => {
          if (to === CALLER) {
            outputs.push({ nodeId: node!, data });
            return undefined;
          }
          const feed = feeds.get(channel)!;
          return Promise.all(feed.sources.map((s) => feed.session.sendInputTo(s, data))).then(
            () => undefined,
          );
        },
        end: () => {
          if (to === CALLER) return;
          const feed = feeds.get(channel)!;
          for (const s of feed.sources) feed.session.endInput(s);
        },
      });
    }
    ports.set(island.key, islandPorts);
  }
  const sessions = await Promise.all(
    plan.islands.map(async (island) => {
      const session = await runner.createStreamSession(island.manifest, {
        sinkPorts: ports.get(island.key)!,
      });
      for (const { channel, sources } of island.inputs) feeds.set(channel, { session, sources });
      return session;
    }),
  );
  for (const data of inputs) {
    for (const channel of plan.inputChannels) {
      const feed = feeds.get(channel)!;
      for (const s of feed.sources) await feed.session.sendInputTo(s, data);
    }
  }
  for (const channel of plan.inputChannels) {
    for (const s of feeds.get(channel)!.sources) feeds.get(channel)!.session.endInput(s);
  }
  await Promise.all(sessions.map((s) => s.ended()));
  return outputs;
}

describe('placement into islands', () => {
  it('plans a channel per crossing (node, island) pair, and one per pipeline input and sink', () => {
    const plan = planPlacement(runner.prepare(manifest), placeOf);
    expect(plan.islands.map((i) => i.key)).toEqual(['worker', 'main']);
    const described = plan.channels.map((c) => `${c.node ?? 'input'}: ${c.from} -> ${c.to}`);
    expect(described.sort()).toEqual(
      [
        'input: caller -> worker',
        'a: worker -> main',
        'b: main -> worker',
        'c: worker -> main',
        'd: main -> caller',
      ].sort(),
    );
    // Boundary nodes keep the real ids of their upstream nodes, and every island is valid.
    const worker = plan.islands[0]!;
    expect(worker.manifest.nodes.map((n) => n.id)).toContain('b');
    for (const island of plan.islands) expect(() => runner.prepare(island.manifest)).not.toThrow();
  });

  it('the islands linked together give exactly the outputs of the whole pipeline', async () => {
    const inputs = [1, 2, 3].map((v) => RuntimeData.json(v));
    const whole = await runner.run(manifest, inputs);
    const split = await runIslands(inputs);
    // How c and d interleave their two inputs depends on scheduling; the set does not.
    const perEdge = (outputs: SessionOutput[]) =>
      outputs.map((o) => JSON.stringify(o)).sort((x, y) => x.localeCompare(y));
    expect(split).toHaveLength(9);
    expect(perEdge(split)).toEqual(perEdge(whole));
    // d saw inputs from both c and b, under their real ids.
    expect(
      split.map((o) => ((o.data as { value: unknown }).value as { from: string }).from).sort(),
    ).toEqual(['b', 'b', 'b', 'c', 'c', 'c', 'c', 'c', 'c']);
  });

  it('rejects a sink port for a node that is not a sink', async () => {
    const sinkPorts = new Map([['a', { push: () => undefined, end: () => {} }]]);
    await expect(runner.createStreamSession(manifest, { sinkPorts })).rejects.toMatchObject({
      kind: 'usage',
    });
  });
});
