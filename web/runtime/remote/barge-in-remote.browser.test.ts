/**
 * Barge-in given as the pipeline's input reaches a node on the gateway at once,
 * out of band, though its frame waits behind hundreds of queued inputs (the worker's
 * channel, the gateway's credit window and the node's inbox): the runtime tells the
 * remote island, which sends the gateway's `interrupt` message now. Real Chromium,
 * real gateway, real CPython; the node's long call ends only when interrupted (or
 * after 20 s, which the test would see as "late"). The same when the trigger is a
 * node's event in another island (vad in the worker, the reply on the gateway): the
 * island tells the runtime, which tells the gateway's island at once.
 */
import { afterAll, describe, expect, inject, it } from 'vitest';
import { type Manifest, RuntimeData } from '../../core/internal.ts';
import { createRuntime } from '../runtime.ts';

const SOURCE = `
import threading
from remotemedia import Node
class Reply(Node):
    def __init__(self, name=None, **config):
        super().__init__(name, **config)
        self.stop = threading.Event()
    def interrupt(self):
        self.stop.set()
    def process(self, data):
        if data != "long":
            yield data
            return
        yield "first"
        self.stop.wait(20)
        yield "late"
`;

describe('barge-in to a node on the gateway', async () => {
  const runtime = await createRuntime({ gateway: { token: inject('gatewayToken') } });
  afterAll(() => runtime.dispose());
  const remote = { host: '127.0.0.1', port: inject('gatewayPort') };

  it('an interrupt given as input overtakes the input queued ahead of it', async () => {
    const manifest: Manifest = {
      version: 'v1',
      metadata: { name: 'remote-barge-in' },
      nodes: [{ id: 'reply', node_type: 'PythonNode', params: { source: SOURCE }, remote }],
      connections: [],
      bargeIn: { to: ['reply'] },
    };
    const session = await runtime.stream(manifest);
    await session.sendInput(RuntimeData.json('long'));
    expect((await session.recvOutput())?.data).toEqual(RuntimeData.json('first'));
    // More than the gateway's window (64) and the node's inbox hold: the interrupt's
    // frame cannot reach the gateway before the long call ends.
    for (let i = 0; i < 200; i++) await session.sendInput(RuntimeData.json(`stale ${i}`));
    await session.sendInput(RuntimeData.control('interrupt'));
    await session.sendInput(RuntimeData.json('after'));
    const closing = session.close();
    const values: unknown[] = [];
    for await (const output of session)
      if (output.data.kind === 'json') values.push(output.data.value);
    await closing;
    expect(values).toEqual(['after']); // not "late", none of the stale inputs
  }, 60_000);

  it("a trigger in the worker interrupts the gateway's node ahead of the data queued behind it", async () => {
    const manifest: Manifest = {
      version: 'v1',
      metadata: { name: 'remote-barge-in-trigger' },
      nodes: [
        { id: 'vad', node_type: 'PassThrough', params: {}, executor: 'worker' },
        { id: 'reply', node_type: 'PythonNode', params: { source: SOURCE }, remote },
      ],
      connections: [{ from: 'vad', to: 'reply' }],
      bargeIn: { from: 'vad', on: 'speech_start', to: ['reply'] },
    };
    const session = await runtime.stream(manifest);
    await session.sendInput(RuntimeData.json('long'));
    expect((await session.recvOutput())?.data).toEqual(RuntimeData.json('first'));
    for (let i = 0; i < 200; i++) await session.sendInput(RuntimeData.json(`stale ${i}`));
    // The user speaks: vad's event, and behind it the in-band interrupt, queue behind
    // the 200 stale inputs on their way to the gateway; only the out-of-band word overtakes.
    await session.sendInput(RuntimeData.event('speech_start', 1_000_000));
    await session.sendInput(RuntimeData.json('after'));
    const closing = session.close();
    const values: unknown[] = [];
    for await (const output of session)
      if (output.data.kind === 'json') values.push(output.data.value);
    await closing;
    expect(values).toEqual(['after']);
  }, 60_000);
});
