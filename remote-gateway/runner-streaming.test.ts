/**
 * A generator node on the gateway streams: its items reach the client one by one
 * as the CPython node makes them ("more" responses of the runner protocol), and a
 * barge-in interrupt cancels the call in the runner (the node's interrupt() runs
 * there) so that nothing it makes afterwards arrives. Real gateway, real CPython,
 * real WebSocket on loopback; the ordering is shown by a node that blocks until the
 * test has seen its first item (no timers).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type Manifest, RuntimeData, type SessionOutput } from '../web/core/internal.ts';
import { RemoteProxyClient } from '../web/runtime/remote/remote-proxy-client.ts';
import { type Gateway, startGateway } from './gateway.ts';

const TOKEN = 'streaming-token-0123456789';
const SOURCE = `
import os, threading
from remotemedia import Node
class Chunks(Node):
    def __init__(self, name=None, dir=None, **config):
        super().__init__(name, **config)
        self.dir = dir
        self.stop = threading.Event()
    def interrupt(self):
        open(os.path.join(self.dir, "interrupted"), "w").close()
        self.stop.set()
    def process(self, data):
        yield "first"
        gate = os.path.join(self.dir, "gate")
        while not os.path.exists(gate) and not self.stop.is_set():
            self.stop.wait(0.005)
        if self.stop.is_set():
            yield "late"  # made after the cancel: must never reach the client
            return
        yield "second"
`;

let gateway: Gateway;
let client: RemoteProxyClient;
let dir: string;

beforeAll(async () => {
  gateway = await startGateway({ port: 0, tokens: [TOKEN], containers: false });
  client = new RemoteProxyClient(
    { host: '127.0.0.1', port: gateway.port },
    { token: TOKEN, WebSocket: WebSocket as unknown as typeof globalThis.WebSocket },
  );
});
afterAll(async () => {
  await gateway?.close();
});

function manifest(bargeIn?: Manifest['bargeIn']): Manifest {
  dir = mkdtempSync(join(tmpdir(), 'streaming-'));
  return {
    version: 'v1',
    metadata: { name: 'streaming' },
    nodes: [{ id: 'py', node_type: 'PythonNode', params: { source: SOURCE, params: { dir } } }],
    connections: [],
    ...(bargeIn ? { bargeIn } : {}),
  };
}

async function rest(session: { recvOutput(): Promise<SessionOutput | undefined> }) {
  const values: unknown[] = [];
  for (let out = await session.recvOutput(); out; out = await session.recvOutput()) {
    if (out.data.kind === 'json') values.push(out.data.value);
  }
  return values;
}

describe('a generator node through the gateway', () => {
  it('sends its first item before its call has finished', async () => {
    const session = await client.stream(manifest());
    try {
      await session.sendInput(RuntimeData.json('go'));
      const first = await session.recvOutput();
      expect(first?.data).toEqual(RuntimeData.json('first'));
      // The node is still blocked on the gate: its call cannot have ended.
      expect(existsSync(join(dir, 'gate'))).toBe(false);
      writeFileSync(join(dir, 'gate'), '');
      const closing = session.close();
      expect(await rest(session)).toEqual(['second']);
      await closing;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('an interrupt cancels the call in the runner; nothing it makes after arrives', async () => {
    const session = await client.stream(manifest({ to: ['py'] }));
    try {
      await session.sendInput(RuntimeData.json('go'));
      expect((await session.recvOutput())?.data).toEqual(RuntimeData.json('first'));
      await session.sendInput(RuntimeData.control('interrupt'));
      const closing = session.close();
      const after = await rest(session);
      await closing;
      expect(after).toEqual([]); // not "late", not "second"
      expect(existsSync(join(dir, 'interrupted'))).toBe(true); // the runner's node got it
      expect(existsSync(join(dir, 'gate'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it("the gateway acts on an interrupt at once, ahead of input queued behind the node (the 'interrupt' message)", async () => {
    const session = await client.stream(manifest({ to: ['py'] }));
    try {
      await session.sendInput(RuntimeData.json('go'));
      expect((await session.recvOutput())?.data).toEqual(RuntimeData.json('first'));
      // The node is blocked; 40 more inputs fill its queue (32) and the gateway's input
      // chain waits on it: an interrupt frame sent now would wait behind them for ever.
      for (let i = 0; i < 40; i++) await session.sendInput(RuntimeData.json(`stale ${i}`));
      await session.sendInput(RuntimeData.control('interrupt'));
      const closing = session.close();
      const after = await rest(session);
      await closing;
      expect(after).toEqual([]); // the blocked call and the 40 stale inputs: all dropped
      expect(existsSync(join(dir, 'interrupted'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('an interrupt leaves the in-flight work of a node not in `to` alone: its output still arrives', async () => {
    // SpeechToText decoding the last utterance when the next one's speech_start
    // interrupts the reply: its transcript must not be lost.
    const SLOW = `
import os, time
from remotemedia import Node
class Slow(Node):
    def __init__(self, name=None, dir=None, **config):
        super().__init__(name, **config)
        self.dir = dir
    def process(self, data):
        yield "decoding " + data
        gate = os.path.join(self.dir, "slow-gate")
        while not os.path.exists(gate):
            time.sleep(0.005)
        yield "transcript of " + data
`;
    const base = manifest({ to: ['py'] });
    const session = await client.stream({
      ...base,
      nodes: [
        ...base.nodes,
        { id: 'stt', node_type: 'PythonNode', params: { source: SLOW, params: { dir } } },
      ],
    });
    try {
      await session.sendInput(RuntimeData.json('go'));
      const seen: SessionOutput[] = [];
      const until = async (found: (o: SessionOutput) => boolean) => {
        for (;;) {
          const out = await session.recvOutput();
          if (!out) return;
          seen.push(out);
          if (found(out)) return;
        }
      };
      // Both calls are running: py blocked after "first", stt decoding.
      let running = 0;
      await until((o) => o.data.kind === 'json' && ++running === 2);
      expect(existsSync(join(dir, 'slow-gate'))).toBe(false);
      await session.sendInput(RuntimeData.control('interrupt'));
      writeFileSync(join(dir, 'slow-gate'), '');
      const closing = session.close();
      await until(() => false);
      await closing;
      const values = seen
        .filter((o) => o.data.kind === 'json')
        .map((o) => `${o.nodeId}:${JSON.stringify((o.data as { value: unknown }).value)}`);
      expect(values).toContain('stt:"transcript of go"');
      expect(values).not.toContain('py:"second"');
      expect(existsSync(join(dir, 'interrupted'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
