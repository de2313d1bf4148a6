/**
 * The smallest app that embeds RemoteMedia Web: one runtime (a pipeline worker,
 * and a Python worker on demand), one manifest mixing a built-in node and a Python
 * node, its outputs on the page. See docs/embedding.md.
 */
import { createRuntime, type Manifest, RuntimeData } from 'remotemedia-web';

const manifest: Manifest = {
  version: 'v1',
  metadata: { name: 'embedded' },
  nodes: [
    { id: 'add', node_type: 'Calculator', params: { operation: 'add', operand: 5 } },
    {
      id: 'square',
      node_type: 'PythonNode',
      params: {
        source: [
          'from remotemedia import Node',
          'class Square(Node):',
          '    def process(self, data):',
          '        return data * data',
        ].join('\n'),
      },
    },
  ],
  connections: [{ from: 'add', to: 'square' }],
};

const status = document.getElementById('status')!;
const list = document.getElementById('outputs')!;
const runtime = await createRuntime();
status.textContent = `Running (${crossOriginIsolated ? 'cross-origin isolated' : 'not isolated'})…`;
const outputs = await runtime.run(
  manifest,
  [1, 2, 3].map((n) => RuntimeData.json(n)),
);
for (const { nodeId, data } of outputs) {
  const item = document.createElement('li');
  item.textContent = `${nodeId}: ${JSON.stringify(data.kind === 'json' ? data.value : data.kind)}`;
  list.append(item);
}
status.textContent = 'Done';
