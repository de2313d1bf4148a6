/**
 * The README's embedding example, kept runnable: tests/node/examples.test.ts runs it.
 * Run it yourself with `npx tsx examples/quickstart.ts`.
 */
import { z } from 'zod';
import { defineNode, type JsonData, PipelineRunner, RuntimeData } from '../web/index.node.ts';

// A node type: a name, a params schema (any Standard Schema, e.g. zod), a factory.
const Describe = defineNode({
  type: 'Describe',
  params: z.object({ unit: z.string().default('') }),
  accepts: ['json'],
  create: ({ unit }) => ({
    process: (input) => RuntimeData.text(`${(input as JsonData).value}${unit}`),
  }),
});

const manifest = {
  version: 'v1',
  metadata: { name: 'quickstart' },
  nodes: [
    { id: 'calc', node_type: 'Calculator', params: { operation: 'multiply', operand: 20 } },
    { id: 'describe', node_type: 'Describe', params: { unit: ' ms' } },
  ],
  connections: [{ from: 'calc', to: 'describe' }],
};

export async function quickstart(): Promise<string[]> {
  const runner = new PipelineRunner({ nodes: [Describe] });
  const lines: string[] = [];

  // One input, one output.
  const one = await runner.executeUnary(manifest, RuntimeData.json(1));
  lines.push(`unary: ${JSON.stringify(one)}`);

  // Streaming: read outputs while sending inputs; close() ends the input.
  const session = await runner.createStreamSession(manifest);
  const reading = (async () => {
    for await (const { nodeId, data } of session) lines.push(`${nodeId}: ${JSON.stringify(data)}`);
  })();
  for (const value of [2, 3]) await session.sendInput(RuntimeData.json(value));
  await session.close();
  await reading;
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const line of await quickstart()) console.log(line);
}
