/**
 * Barge-in as a hostile client drives it: valid interrupts in orders and numbers a
 * well-behaved client never sends, against a real gateway on loopback and real
 * CPython node runners. Each test names the bug it caught (it failed before the fix
 * in the file it names).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Manifest, RuntimeData } from '../web/core/internal.ts';
import { type Gateway, startGateway } from './gateway.ts';
import { islandOf, RawClient, type Received } from './testing/raw-client.ts';

const TOKEN = 'attack-interrupt-token-0123456789';

let gateway: Gateway;
let dir: string;

beforeAll(async () => {
  // A short call deadline: a runner stuck behind a hook that never returns is killed
  // within seconds, so the old behaviour fails the test instead of hanging it.
  gateway = await startGateway({
    port: 0,
    tokens: [TOKEN],
    containers: false,
    python: { callTimeoutMs: 4000 },
  });
});
afterAll(async () => {
  await gateway?.close();
});

function pythonIsland(source: string, staleLimitMs?: number): ReturnType<typeof islandOf> {
  dir = mkdtempSync(join(tmpdir(), 'attack-interrupt-'));
  const manifest: Manifest = {
    version: 'v1',
    metadata: { name: 'attack-interrupt' },
    nodes: [{ id: 'py', node_type: 'PythonNode', params: { source, params: { dir } } }],
    connections: [],
    bargeIn: { to: ['py'], ...(staleLimitMs ? { staleLimitMs } : {}) },
  };
  return islandOf(manifest, 'py', 'py');
}

const jsonOut = (value: unknown) => (r: Received) =>
  r.kind === 'frame' && r.data.kind === 'json' && r.data.value === value;

describe('interrupts in hostile numbers and orders', () => {
  // PythonProcess.cancel sent one runner cancel per interrupt while the cancelled call
  // was still running: an interrupt flood queued as many cancels (each a request, a
  // deadline timer and a call of the node's interrupt() in the runner).
  it('a flood of interrupts during one call costs one runner cancel, not one each', async () => {
    const island = pythonIsland(`
import os, time
from remotemedia import Node
class Slow(Node):
    def __init__(self, name=None, dir=None, **config):
        super().__init__(name, **config)
        self.dir = dir
    def interrupt(self):
        with open(os.path.join(self.dir, "interrupts"), "a") as f:
            f.write("x")
    def process(self, data):
        if data != "block":
            yield data
            return
        yield "first"
        while not os.path.exists(os.path.join(self.dir, "gate")):
            time.sleep(0.005)
        yield "after the gate"
`);
    const before = { ...gateway.python.cancels };
    const client = await RawClient.open(gateway.url, TOKEN, island);
    try {
      client.sendFrame(0, 1, RuntimeData.json('block'));
      await client.waitFor(jsonOut('first'));
      for (let i = 0; i < 2000; i++) client.send({ type: 'interrupt', port: 0 });
      client.sendFrame(0, 2, RuntimeData.control('interrupt'));
      // The flood has been taken once a metrics answer (sent after it) comes back.
      client.send({ type: 'metrics', id: 1 });
      await client.waitFor((r) => r.kind === 'control' && r.message.type === 'metrics');
      writeFileSync(join(dir, 'gate'), '');
      client.sendFrame(0, 3, RuntimeData.json('ping'));
      expect(await client.waitFor(jsonOut('ping'))).toBeDefined();
      expect(client.received.some(jsonOut('after the gate'))).toBe(false);
      const interrupts = readFileSync(join(dir, 'interrupts'), 'utf8').length;
      expect(interrupts).toBeLessThanOrEqual(2);
      expect(gateway.python.cancels.answered - before.answered).toBeLessThanOrEqual(2);
      expect(gateway.python.cancels.callsStopped - before.callsStopped).toBe(1);
    } finally {
      client.terminate();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  // node_runner.py called the node's interrupt() on the thread that reads requests: a
  // hook that never returned stopped the runner reading, so the cancel was never
  // answered and the next input never read, until the call deadline killed the runner.
  it("a node whose interrupt() never returns does not stall the runner's next call", async () => {
    const island = pythonIsland(`
import threading, time
from remotemedia import Node
class Hangs(Node):
    def interrupt(self):
        threading.Event().wait()
    def process(self, data):
        if data != "long":
            yield data
            return
        while True:
            yield "tick"
            time.sleep(0.01)
`);
    const client = await RawClient.open(gateway.url, TOKEN, island);
    try {
      client.sendFrame(0, 1, RuntimeData.json('long'));
      await client.waitFor(jsonOut('tick'));
      client.send({ type: 'interrupt', port: 0 });
      client.sendFrame(0, 2, RuntimeData.control('interrupt'));
      client.sendFrame(0, 3, RuntimeData.json('ping'));
      const answer = await client.waitFor(
        (r) => jsonOut('ping')(r) || (r.kind === 'control' && r.message.type === 'error'),
      );
      expect(answer?.kind === 'control' ? answer.message : 'ping').toBe('ping');
    } finally {
      client.terminate();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  // With the hook on a thread of its own, a slow hook for the cancelled call could
  // land during the next call and stop it: the cancel's answer waits for the hook.
  it('a slow interrupt() meant for one call does not land on the next one', async () => {
    const island = pythonIsland(`
import time
from remotemedia import Node
class SlowHook(Node):
    def __init__(self, name=None, dir=None, **config):
        super().__init__(name, **config)
        self.stop = False
    def interrupt(self):
        time.sleep(0.3)
        self.stop = True
    def process(self, data):
        if data == "long":
            while not self.stop:
                yield "tick"
                time.sleep(0.01)
            return
        self.stop = False
        time.sleep(0.6)
        yield "stopped" if self.stop else data
`);
    const client = await RawClient.open(gateway.url, TOKEN, island);
    try {
      client.sendFrame(0, 1, RuntimeData.json('long'));
      await client.waitFor(jsonOut('tick'));
      client.send({ type: 'interrupt', port: 0 });
      client.sendFrame(0, 2, RuntimeData.control('interrupt'));
      client.sendFrame(0, 3, RuntimeData.json('ping'));
      const answer = await client.waitFor(
        (r) =>
          jsonOut('ping')(r) ||
          jsonOut('stopped')(r) ||
          (r.kind === 'control' && r.message.type === 'error'),
      );
      expect(answer?.kind === 'frame' ? answer.data : answer).toEqual(RuntimeData.json('ping'));
    } finally {
      client.terminate();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('a node whose interrupt() raises: the call still stops, the session goes on', async () => {
    const island = pythonIsland(`
import time
from remotemedia import Node
class Raises(Node):
    def interrupt(self):
        raise RuntimeError("hook broke")
    def process(self, data):
        if data != "long":
            yield data
            return
        while True:
            yield "tick"
            time.sleep(0.01)
`);
    const client = await RawClient.open(gateway.url, TOKEN, island);
    try {
      client.sendFrame(0, 1, RuntimeData.json('long'));
      await client.waitFor(jsonOut('tick'));
      client.send({ type: 'interrupt', port: 0 });
      client.sendFrame(0, 2, RuntimeData.control('interrupt'));
      client.sendFrame(0, 3, RuntimeData.json('ping'));
      const answer = await client.waitFor(
        (r) => jsonOut('ping')(r) || (r.kind === 'control' && r.message.type === 'error'),
      );
      expect(answer?.kind === 'control' ? answer.message : 'ping').toBe('ping');
    } finally {
      client.terminate();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('interrupts with no call in flight cost no runner cancel; interrupts after the end leave a clean ending', async () => {
    const island = pythonIsland(`
import os
from remotemedia import Node
class Echo(Node):
    def __init__(self, name=None, dir=None, **config):
        super().__init__(name, **config)
        self.dir = dir
    def interrupt(self):
        open(os.path.join(self.dir, "interrupted"), "w").close()
    def process(self, data):
        return data
`);
    const client = await RawClient.open(gateway.url, TOKEN, island);
    try {
      for (let i = 0; i < 500; i++) client.send({ type: 'interrupt', port: 0, timestampUs: i });
      client.sendFrame(0, 1, RuntimeData.control('interrupt'));
      client.sendFrame(0, 2, RuntimeData.json('a'));
      await client.waitFor(jsonOut('a'));
      for (let i = 0; i < 500; i++) client.send({ type: 'interrupt', port: 0 });
      client.sendFrame(0, 3, RuntimeData.control('interrupt'));
      // The runner reads in order: a cancel sent for those would be read before 'b'.
      client.sendFrame(0, 4, RuntimeData.json('b'));
      await client.waitFor(jsonOut('b'));
      // No call was running at any interrupt: the runner was never asked to cancel.
      expect(existsSync(join(dir, 'interrupted'))).toBe(false);
      // After the end (the node's flush may be running): still a clean ending.
      client.send({ type: 'end', port: 0, seq: 5 });
      for (let i = 0; i < 50; i++) client.send({ type: 'interrupt', port: 0 });
      const { message, code } = await client.ending();
      expect(message?.type).toBe('done');
      expect(code).toBe(1000);
    } finally {
      client.terminate();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  // interrupt-gate.ts: the node's input stayed stale until an in-band interrupt that
  // this client never sends, so the session answered nothing ever again.
  it("an 'interrupt' message whose frame never follows does not wedge the node: bargeIn.staleLimitMs bounds it", async () => {
    const island = pythonIsland(
      `
from remotemedia import Node
class Echo(Node):
    def process(self, data):
        return data
`,
      300,
    );
    const client = await RawClient.open(gateway.url, TOKEN, island);
    const counted = gateway.metrics.interruptsTotal;
    try {
      client.sendFrame(0, 1, RuntimeData.json('before'));
      await client.waitFor(jsonOut('before'));
      client.send({ type: 'interrupt', port: 0, timestampUs: 42 }); // and no frame, ever
      client.sendFrame(0, 2, RuntimeData.json('during'));
      await new Promise((resolve) => setTimeout(resolve, 400)); // past the limit
      client.sendFrame(0, 3, RuntimeData.json('after'));
      expect(await client.waitFor(jsonOut('after'))).toBeDefined();
      expect(gateway.metrics.interruptsTotal - counted).toBe(1); // /metrics: remotemedia_interrupts_total
    } finally {
      client.terminate();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('an interrupt on a port the session lacks, or before open, is a protocol error', async () => {
    const island = pythonIsland(`
from remotemedia import Node
class Echo(Node):
    def process(self, data):
        return data
`);
    try {
      const client = await RawClient.open(gateway.url, TOKEN, island);
      client.send({ type: 'interrupt', port: 3 });
      const { message, code } = await client.ending();
      expect(code).toBe(1008);
      expect(JSON.stringify(message)).toMatch(/'interrupt' on input port 3: this session has 1/);

      const early = await RawClient.connect(gateway.url);
      early.send({ type: 'interrupt', port: 0 });
      expect(await early.closing).toBe(1008);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
