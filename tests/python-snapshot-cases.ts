/**
 * What the snapshot tests run on a started Python runtime, in Node and in Chromium:
 * a PythonNode from inline source (importing a module the snapshot lacks), one
 * naming a class of the package (imported on first use), and Python calling the
 * TypeScript core through the bridge. A start from a snapshot must give the same.
 */
import {
  type JsonData,
  type Manifest,
  PipelineRunner,
  RuntimeData,
  type RuntimeData as Data,
} from '../web/core/internal.ts';
import { definePythonNode } from '../web/python/python-node.ts';
import type { PythonRuntime } from '../web/python/python-runtime.ts';

const ENERGY = `
from remotemedia import Node
import statistics

class Energy(Node):
    def process(self, data):
        samples = data.samples
        return {"frames": len(samples), "energy": sum(x * x for x in samples),
                "mean": statistics.fmean(samples)}
`;

/** Inline source (importing a module the snapshot lacks), a class of the package, and Python calling the core. */
const manifest: Manifest = {
  version: 'v1',
  metadata: { name: 'snapshot against plain' },
  nodes: [
    { id: 'energy', node_type: 'PythonNode', params: { source: ENERGY } },
    {
      id: 'calc',
      node_type: 'PythonNode',
      params: {
        class: 'remotemedia.nodes:CalculatorNode',
        params: { operation: 'multiply', operand: 2 },
      },
    },
  ],
  connections: [],
};

export async function pythonNodeOutputs(runtime: PythonRuntime): Promise<unknown[]> {
  const runner = new PipelineRunner({ nodes: [definePythonNode(async () => runtime)] });
  const block = RuntimeData.audio(
    Float32Array.from({ length: 320 }, (_, i) => Math.sin(i / 7)),
    16000,
  );
  const energy = await runner.run({ ...manifest, nodes: [manifest.nodes[0]!] }, [block, block]);
  const calc = await runner.run({ ...manifest, nodes: [manifest.nodes[1]!] }, [
    RuntimeData.json([1, 2.5]),
  ]);
  // The bridge from Python: remotemedia_runtime runs a manifest on the TypeScript core.
  const viaBridge = await runtime.pyodide.runPythonAsync(`
import json, remotemedia_runtime
m = {"version": "v1", "metadata": {"name": "c"}, "nodes": [{"id": "c", "node_type": "Calculator",
     "params": {"operation": "add", "operand": 5}}], "connections": []}
json.dumps(await remotemedia_runtime.execute_pipeline_with_input(json.dumps(m), [1, 2]))
`);
  return [
    ...[...energy, ...calc].map((o) => (o.data as JsonData).value ?? (o.data as Data)),
    viaBridge,
  ];
}
