/**
 * Barge-in reaches a Python node in the middle of its call: Pyodide runs the call
 * on the worker's only thread, so the island's interrupt message cannot be read
 * until the call ends. The page also sets the shared interrupt flag (another signal
 * than the deadline's); the worker's handler, inside the call, interrupts the
 * island, and the call stops (remotemedia.node_host.Interrupted) — not its session.
 * Real Chromium, real Pyodide. The node tells the test it is running through a
 * BroadcastChannel (the worker's thread is busy: no message could say so).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { type Manifest, RuntimeData } from '../core/internal.ts';
import { createRuntime } from '../runtime/runtime.ts';

const CHANNEL = 'python-barge-in-test';

/** A reply that runs for minutes unless interrupted; its own hook is counted too. */
const SOURCE = `
from remotemedia import Node

class Reply(Node):
    hooks = 0

    def interrupt(self):
        Reply.hooks += 1

    def process(self, data):
        if data == "hooks":
            return {"hooks": Reply.hooks}
        if data != "long":
            return data
        from js import BroadcastChannel
        BroadcastChannel.new("${CHANNEL}").postMessage("running")
        total = 0
        for i in range(10_000_000_000):  # far past the test's patience
            total += i
        return "late"
`;

describe('barge-in in a running Python call', async () => {
  // A long deadline: without barge-in in the call, the test sees "late" or the deadline.
  const runtime = await createRuntime({ python: { callDeadlineMs: 60_000 } });
  afterAll(() => runtime.dispose());
  await runtime.warmPython();

  it('an interrupt given as input stops the call mid-way; the next input is served', async () => {
    const manifest: Manifest = {
      version: 'v1',
      metadata: { name: 'python-barge-in' },
      nodes: [{ id: 'reply', node_type: 'PythonNode', params: { source: SOURCE } }],
      connections: [],
      bargeIn: { to: ['reply'] },
    };
    const running = new Promise<void>((resolve) => {
      const channel = new BroadcastChannel(CHANNEL);
      channel.onmessage = () => {
        channel.close();
        resolve();
      };
    });
    const session = await runtime.stream(manifest);
    await session.sendInput(RuntimeData.json('long'));
    await running;
    await session.sendInput(RuntimeData.json('queued before the interrupt'));
    await session.sendInput(RuntimeData.control('interrupt'));
    await session.sendInput(RuntimeData.json('after'));
    await session.sendInput(RuntimeData.json('hooks'));
    const closing = session.close();
    const values: unknown[] = [];
    for await (const output of session)
      if (output.data.kind === 'json') values.push(output.data.value);
    await closing;
    // Not "late", not the queued input; the Python object's own hook ran once.
    expect(values).toEqual(['after', { hooks: 1 }]);
  }, 120_000);
});
