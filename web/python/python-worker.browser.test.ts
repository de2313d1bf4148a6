import { afterAll, describe, expect, inject, it } from 'vitest';
import {
  type AudioData,
  type JsonData,
  type Manifest,
  PipelineRunner,
  RuntimeData,
} from '../core/internal.ts';
import { createRuntime } from '../runtime/runtime.ts';
import { PACKAGE_ROOT, startPythonRuntime } from './python-runtime.ts';

/** Energy of each audio block, computed in Python from the float32 memoryview. */
const ENERGY_SOURCE = `
from remotemedia import Node

class Energy(Node):
    def process(self, data):
        samples = data.samples
        return {"frames": len(samples) // data.channels, "rate": data.sample_rate,
                "energy": sum(x * x for x in samples)}
`;

const mixed: Manifest = {
  version: 'v1',
  metadata: { name: 'WASM resample, Python energy, page tally' },
  nodes: [
    { id: 'resample', node_type: 'Resample', params: { target_rate: 16000 } },
    { id: 'energy', node_type: 'PythonNode', params: { source: ENERGY_SOURCE } },
    { id: 'tally', node_type: 'PassThrough', params: {}, executor: 'main' },
  ],
  connections: [
    { from: 'resample', to: 'energy' },
    { from: 'energy', to: 'tally' },
  ],
};

const runaway = (executor?: 'python'): Manifest => ({
  version: 'v1',
  metadata: { name: 'runaway' },
  nodes: [
    {
      id: 'spin',
      node_type: 'PythonNode',
      params: {
        source:
          'from remotemedia import Node\nclass Spin(Node):\n    def process(self, data):\n        while True:\n            pass\n',
      },
      ...(executor ? { executor } : {}),
    },
  ],
  connections: [],
});

const failing: Manifest = {
  version: 'v1',
  metadata: { name: 'failing' },
  nodes: [
    {
      id: 'picky',
      node_type: 'PythonNode',
      params: {
        source:
          'from remotemedia import Node\nclass Picky(Node):\n    def process(self, data):\n        if data == 13:\n            raise ValueError("13 is not welcome")\n        return data + 1\n',
      },
    },
  ],
  connections: [],
};

function sine(length: number, rate: number): AudioData {
  return RuntimeData.audio(
    Float32Array.from({ length }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 440 * i) / rate)),
    rate,
    1,
  );
}

describe('Python nodes in the Python worker (Pyodide) beside the pipeline worker', async () => {
  const runtime = await createRuntime({ python: { callDeadlineMs: 3000 } });
  afterAll(() => runtime.dispose());

  it('starts Pyodide from our own files and reports the time it took', async () => {
    const stages: string[] = [];
    const ms = await runtime.warmPython((stage) => stages.push(stage));
    console.log(`Python worker cold start: ${ms.toFixed(0)} ms`);
    expect(ms).toBeGreaterThan(0);
    expect(stages).toEqual(['loading Pyodide', 'installing the remotemedia package', 'ready']);
  });

  it('streams audio from a WASM node through rings into inline Python and on to the page', async () => {
    const chunks = [960, 4800, 333, 9600].map((n) => sine(n, 48000));
    const outputs = await runtime.run(mixed, chunks);
    // The same energies, computed from the same resampled blocks in this thread.
    const resampled = await new PipelineRunner().run(
      { ...mixed, nodes: [mixed.nodes[0]!], connections: [] },
      chunks,
    );
    expect(outputs.map((o) => o.nodeId)).toEqual(resampled.map(() => 'tally'));
    outputs.forEach((o, i) => {
      const block = resampled[i]!.data as AudioData;
      const value = (o.data as JsonData).value as { frames: number; rate: number; energy: number };
      expect(value.frames).toBe(block.samples.length);
      expect(value.rate).toBe(16000);
      const energy = block.samples.reduce((sum, x) => sum + x * x, 0);
      expect(value.energy).toBeCloseTo(energy, 3);
    });
  });

  it('a Python exception ends the session with its traceback and the node id', async () => {
    const session = await runtime.stream(failing);
    await session.sendInput(RuntimeData.json(1));
    expect((await session.recvOutput())?.data).toEqual(RuntimeData.json(2));
    await session.sendInput(RuntimeData.json(13));
    const error = await session.recvOutput().catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'node_failed', nodeId: 'picky' });
    const message = String((error as Error).message);
    expect(message).toContain('Traceback');
    expect(message).toContain('ValueError: 13 is not welcome');
  });

  it('a runaway node is interrupted when its session is aborted; the worker serves the next one', async () => {
    const session = await runtime.stream(runaway());
    await session.sendInput(RuntimeData.json(1));
    const pending = session.recvOutput();
    await new Promise((resolve) => setTimeout(resolve, 300));
    session.abort('stop the spin');
    await expect(pending).rejects.toMatchObject({ kind: 'aborted' });
    // Same worker, still warm: the next session runs at once.
    expect(await runtime.warmPython()).toBeGreaterThan(0);
    const next = await runtime.run(failing, [RuntimeData.json(41)]);
    expect(next.map((o) => o.data)).toEqual([RuntimeData.json(42)]);
  });

  it('a runaway node past its call deadline fails its session by itself', async () => {
    const session = await runtime.stream(runaway('python'));
    await session.sendInput(RuntimeData.json(1));
    const error = await session.recvOutput().catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'node_failed', nodeId: 'spin' });
    expect(String((error as Error).message)).toContain('KeyboardInterrupt');
    expect(await runtime.execute(failing, RuntimeData.json(1))).toEqual(RuntimeData.json(2));
  });

  it('a node_type naming a Python class runs it in the Python worker', async () => {
    const byClass: Manifest = {
      version: 'v1',
      metadata: { name: 'by class' },
      nodes: [
        {
          id: 'calc',
          node_type: 'remotemedia.nodes:CalculatorNode',
          executor: 'python',
          params: { operation: 'multiply', operand: 3 },
        },
      ],
      connections: [],
    };
    expect(await runtime.execute(byClass, RuntimeData.json([1, 2]))).toEqual(
      RuntimeData.json([3, 6]),
    );
  });

  it('hot swap: new source takes over a running stream; a broken one leaves the old running', async () => {
    const node = (body: string) =>
      `from remotemedia import Node\nclass Live(Node):\n    def process(self, data):\n        return ${body}\n`;
    const live: Manifest = {
      version: 'v1',
      metadata: { name: 'live' },
      nodes: [{ id: 'live', node_type: 'PythonNode', params: { source: node('data + 1') } }],
      connections: [],
    };
    const session = await runtime.stream(live);
    const next = async (value: number) => {
      await session.sendInput(RuntimeData.json(value));
      return ((await session.recvOutput())!.data as JsonData).value;
    };
    expect(await next(1)).toBe(2);
    expect(await runtime.updatePythonNode('live', { source: node('data * 100') })).toBe(1);
    expect(await next(2)).toBe(200);
    const broken = await runtime
      .updatePythonNode('live', { source: node('data +') })
      .catch((e: unknown) => e);
    expect(String((broken as Error).message)).toMatch(/keeps its old code.*SyntaxError/s);
    expect(await next(3)).toBe(300);
    await session.close();
    await expect(runtime.updatePythonNode('live', { source: node('0') })).rejects.toThrow(
      "no running PythonNode 'live'",
    );
  });

  it('PythonNode params are checked before Pyodide runs, with their path', async () => {
    const bad: Manifest = {
      ...failing,
      nodes: [{ id: 'x', node_type: 'PythonNode', params: { params: {} } }],
    };
    await expect(runtime.validate(bad)).rejects.toMatchObject({
      issues: [expect.objectContaining({ path: 'nodes[0].params.class' })],
    });
  });
});

describe('the remotemedia package suite inside Pyodide in Chromium', () => {
  it('passes, on the runtime path', async () => {
    const { loadPyodide } = await import('pyodide');
    const sources = import.meta.glob('../../python-packages/**/*.py', {
      query: '?raw',
      import: 'default',
      eager: true,
    }) as Record<string, string>;
    const files = Object.fromEntries(
      Object.entries(sources).map(([p, text]) => [p.replace('../../python-packages/', ''), text]),
    );
    const { pyodide } = await startPythonRuntime({
      load: () => loadPyodide(),
      files,
      runner: new PipelineRunner(),
    });
    // The remote tests reach real gateways through the page's WebSocket.
    const address = (port: number) => `127.0.0.1:${port}:${inject('gatewayToken')}`;
    pyodide.runPython(
      `import os\nos.environ["REMOTEMEDIA_TEST_GATEWAY"] = ${JSON.stringify(address(inject('gatewayPort')))}\n` +
        `os.environ["REMOTEMEDIA_TEST_PICKLE_GATEWAY"] = ${JSON.stringify(address(inject('pickleGatewayPort')))}`,
    );
    const summary = (
      await pyodide.runPythonAsync(
        `from tests.run import run_tests\nawait run_tests(${JSON.stringify(`${PACKAGE_ROOT}/tests`)})`,
      )
    ).toJs({ dict_converter: Object.fromEntries }) as {
      passed: string[];
      failed: string[];
      skipped: string[];
    };
    expect(summary.failed).toEqual([]);
    expect(summary.passed.length).toBeGreaterThanOrEqual(20);
    // Remote execution from Pyodide ran against the gateways (interrupt() included); only the relay cut
    // (needs TCP sockets) and what needs processes are left out.
    expect(summary.passed.filter((t) => t.includes('test_remote'))).toHaveLength(15);
    // The node runner's tests (6) start CPython processes; the relay cut and
    // remotemedia_runtime's gateway path (CPython's: Pyodide has the core) are the 4 others.
    const processes = summary.skipped.filter((s) => s.includes('Pyodide cannot start processes'));
    expect(processes, summary.skipped.join('\n')).toHaveLength(6);
    expect(summary.skipped, summary.skipped.join('\n')).toHaveLength(10);
  }, 120_000);
});
