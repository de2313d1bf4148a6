/**
 * Python benchmarks, with Pyodide in Node (the same V8 and the same Pyodide build the
 * browser worker runs): crossing into a Python node and back for one 20 ms block,
 * against a JS node doing the same work; Pyodide's cold start and a second pipeline
 * on a warm interpreter; and the original's comparison redone — the 3-node pipeline
 * on the runtime path against the pure-Python fallback, both inside Pyodide.
 */
import { loadPyodide } from 'pyodide';
import { Bench } from 'tinybench';
import {
  type AnyNodeDefinition,
  defineNode,
  type NodeInstance,
  PipelineRunner,
  RuntimeData,
  type ProcessContext,
} from '../web/core/internal.ts';
import { definePythonNode } from '../web/python/python-node.ts';
import { startPythonRuntime } from '../web/python/python-runtime.ts';
import { pythonPackageFiles } from '../tests/python-files.ts';
import { benchPythonStartChromium, benchPythonStartNode } from './python-start.bench.ts';
import { type BenchSection, rowsOf } from './report.ts';
import { z } from 'zod';

/** Under the tables: how the cold-start figures are made (bench/python-start.bench.ts). */
const START_NOTES = `Cold starts: \`npm run build\` (the Chromium rows use the prebuilt build, dist/browser/, with its shipped snapshot), then \`npm run bench python\`. Each round runs a bare \`loadPyodide()\` and then our starts, so a change of load hits both; each ratio is against the bare load's p50 in the same run. "To the first block" is from nothing loaded to the first output of a PythonNode (Node: startPythonRuntime, a PythonNode initialized, one 20 ms block; Chromium: createRuntime(), which also starts the pipeline worker, a new Python worker, \`runtime.run\` of one block). A first visit starts from the shipped snapshot (6.1 MiB gzip'd, decompressed in a worker of its own) and keeps a raw copy (15 MB: the heap's zero pages are left out) in OPFS, which later visits start from; a first-ever visit also runs on fresh browser contexts (nothing cached). In Node the first start is from the shipped file with an empty user cache (node:zlib), later starts from its raw copy there. See docs/python.md, "From a memory snapshot".`;

/** Energy of a block: what both nodes compute. */
const ENERGY_PY = `
from remotemedia import Node
class Energy(Node):
    def process(self, data):
        return sum(x * x for x in data.samples)
`;
const ECHO_PY = `
from remotemedia import Node
class Echo(Node):
    def process(self, data):
        return data
`;
const EnergyJs = defineNode({
  type: 'EnergyJs',
  params: z.object({}),
  create: () => ({
    process: (input) => {
      const samples = (input as { samples: Float32Array }).samples;
      let sum = 0;
      for (let i = 0; i < samples.length; i++) sum += samples[i]! * samples[i]!;
      return RuntimeData.json(sum);
    },
  }),
});

const context = (nodeId: string): ProcessContext => ({
  nodeId,
  from: undefined,
  signal: new AbortController().signal,
});

/** A node made and initialized as a session would, outside any session. */
async function instance(definition: AnyNodeDefinition, params: unknown): Promise<NodeInstance> {
  const checked = await definition.params['~standard'].validate(params);
  if (checked.issues) throw new Error(`bad params: ${JSON.stringify(checked.issues)}`);
  const node = definition.create(checked.value, context('n'));
  await node.initialize?.();
  return node;
}

export async function benchPython(): Promise<BenchSection> {
  // First, while this process has loaded no Pyodide: cold starts side by side.
  const startNode = await benchPythonStartNode();
  const coldStarted = performance.now();
  const runtime = await startPythonRuntime({
    load: () => loadPyodide(),
    files: pythonPackageFiles(),
    runner: new PipelineRunner(),
  });
  const coldMs = performance.now() - coldStarted;
  const pythonNode = definePythonNode(async () => runtime);

  const block = RuntimeData.audio(
    Float32Array.from({ length: 320 }, (_, i) => Math.sin(i / 7)),
    16000,
  );
  const py = await instance(pythonNode, { source: ENERGY_PY });
  const js = await instance(EnergyJs, {});
  const echo = await instance(pythonNode, { source: ECHO_PY });
  const crossing = new Bench({ time: 1000, warmup: true });
  crossing
    .add('JS node: energy of 320 samples (baseline)', async () => {
      await js.process(block, context('n'));
    })
    .add('PythonNode: the same in Pyodide, across and back as frames', async () => {
      await py.process(block, context('n'));
    })
    .add('PythonNode returning its input: the crossing alone, both ways', async () => {
      await echo.process(block, context('n'));
    });
  await crossing.run();

  // A second pipeline on the warm interpreter: a new node from source, initialized,
  // and its first block processed.
  const warm = new Bench({ time: 1000, iterations: 20 });
  let n = 0;
  warm.add('new PythonNode from source + first block, warm interpreter', async () => {
    const node = await instance(pythonNode, {
      source: ENERGY_PY.replace('Energy', `Energy${n++}`),
    });
    await node.process(block, context('n'));
    await node.cleanup?.();
  });
  await warm.run();

  const compare = (
    await runtime.pyodide.runPythonAsync(`
import time
from remotemedia import Pipeline
from remotemedia.nodes import PassThroughNode, CalculatorNode

def make():
    p = Pipeline(name="test")
    p.add_node(PassThroughNode(name="pass1"))
    p.add_node(CalculatorNode(name="calc", operation="add", operand=5))
    p.add_node(PassThroughNode(name="pass2"))
    return p

async def timed(use_runtime, rounds=300):
    p = make()
    assert await p.run([1, 2, 3, 4, 5], use_runtime=use_runtime) == [6, 7, 8, 9, 10]
    samples = []
    for _ in range(rounds):
        t = time.perf_counter()
        await p.run([1, 2, 3, 4, 5], use_runtime=use_runtime)
        samples.append((time.perf_counter() - t) * 1000)
    assert p.last_run[0] == ("runtime" if use_runtime else "python"), p.last_run
    return sorted(samples)

[await timed(False), await timed(True)]
`)
  ).toJs() as [number[], number[]];
  const pct = (v: number[], q: number) => v[Math.min(v.length - 1, Math.floor(v.length * q))]!;
  const [fallback, viaRuntime] = compare;

  const crossRows = rowsOf(crossing.tasks);
  const startChromium = await benchPythonStartChromium();
  return {
    title: 'Python nodes in Pyodide (Node; cold start also in Chromium)',
    tables: [
      startNode,
      startChromium,
      {
        unit: 'per 20 ms block of 16 kHz audio (320 samples)',
        rows: crossRows,
        note: `PythonNode median ${(crossRows[1]!.p50 * 1000).toFixed(0)} µs per block with the work, ${(crossRows[2]!.p50 * 1000).toFixed(0)} µs for the crossing alone (goal: at most 300 µs). Pyodide cold start (load + package + bridge): ${coldMs.toFixed(0)} ms.`,
      },
      {
        unit: 'per second pipeline on a warm interpreter',
        rows: rowsOf(warm.tasks),
        note: 'Goal: at most 50 ms.',
      },
      {
        unit: "per Pipeline.run([1, 2, 3, 4, 5]) of the original's 3-node pipeline, inside Pyodide",
        rows: [
          {
            name: 'pure-Python executor (use_runtime=False, baseline)',
            p50: pct(fallback, 0.5),
            p99: pct(fallback, 0.99),
            samples: fallback.length,
            ratio: 1,
          },
          {
            name: 'runtime path (remotemedia_runtime -> TypeScript core)',
            p50: pct(viaRuntime, 0.5),
            p99: pct(viaRuntime, 0.99),
            samples: viaRuntime.length,
            ratio: pct(viaRuntime, 0.5) / pct(fallback, 0.5),
          },
        ],
        note: `The original measured its runtime path at 0.33x the speed of its Python executor; here the runtime path is ${(pct(fallback, 0.5) / pct(viaRuntime, 0.5)).toFixed(2)}x the speed of the fallback.`,
      },
    ],
    extra: START_NOTES,
  };
}
