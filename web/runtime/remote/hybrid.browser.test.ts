import { afterAll, describe, expect, inject, it } from 'vitest';
import { type Manifest, RuntimeData } from '../../core/internal.ts';
import { createRuntime } from '../runtime.ts';

const ENERGY = `
import math
from remotemedia import Node

# math.fsum: correctly rounded everywhere (sum() of floats changed in Python 3.12, so
# CPython 3.11 on the gateway and Pyodide's 3.14 would differ in the last bits).
class Energy(Node):
    def process(self, data):
        return {"frames": len(data.samples), "energy": math.fsum(x * x for x in data.samples)}
`;

/** Resample in the worker (WASM), energy in Python, a page node at the end. */
function pipeline(python: Record<string, unknown>): Manifest {
  return {
    version: 'v1',
    metadata: { name: 'hybrid' },
    nodes: [
      { id: 'resample', node_type: 'Resample', params: { target_rate: 16000 } },
      { id: 'energy', node_type: 'PythonNode', params: { source: ENERGY }, ...python },
      { id: 'sink', node_type: 'PassThrough', params: {}, executor: 'main' },
    ],
    connections: [
      { from: 'resample', to: 'energy' },
      { from: 'energy', to: 'sink' },
    ],
  };
}

describe('hybrid: a node on the gateway, the rest in the browser', async () => {
  const runtime = await createRuntime({ gateway: { token: inject('gatewayToken') } });
  afterAll(() => runtime.dispose());
  const remote = { host: '127.0.0.1', port: inject('gatewayPort') };
  const chunks = [4800, 960, 7, 9600].map((n) =>
    RuntimeData.audio(
      Float32Array.from({ length: n }, (_, i) => 0.3 * Math.sin(i / 9)),
      48000,
      1,
    ),
  );

  it('WASM resample -> CPython on the gateway -> page gives the all-browser outputs', async () => {
    const onGateway = await runtime.run(pipeline({ remote }), chunks);
    const inBrowser = await runtime.run(pipeline({}), chunks); // Pyodide in the Python worker
    expect(onGateway.length).toBeGreaterThan(3);
    expect(onGateway).toEqual(inBrowser);
  });

  it("the session's metrics include the node on the gateway", async () => {
    const session = await runtime.stream(pipeline({ remote }));
    for (const chunk of chunks) await session.sendInput(chunk);
    for (let i = 0; i < 2; i++) await session.recvOutput();
    const nodes = await session.metrics();
    expect(nodes.map((n) => n.nodeId).sort()).toEqual(['energy', 'resample', 'sink']);
    expect(nodes.find((n) => n.nodeId === 'energy')!.itemsIn).toBeGreaterThanOrEqual(2);
    await session.close();
  });

  it('a wrong token is a clear error, not a hang', async () => {
    const wrong = await createRuntime({ gateway: { token: 'not-the-token' } });
    const error = await wrong.run(pipeline({ remote }), chunks).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'unauthorized' });
    wrong.dispose();
  });

  it('a gateway that is not there is a clear error, not a hang', async () => {
    const error = await runtime
      .run(pipeline({ remote: { host: '127.0.0.1', port: 9 } }), chunks)
      .catch((e: unknown) => e);
    // Nothing was running to be lost: the address is the thing to check.
    expect(error).toMatchObject({ kind: 'usage' });
    expect(String((error as Error).message)).toContain(
      'cannot reach the gateway at ws://127.0.0.1:9',
    );
  });
});
