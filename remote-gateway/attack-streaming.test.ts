/**
 * The runner's streaming ("more") responses as a hostile node and a hostile client
 * drive them: a generator of 100,000 tiny items, one item over the item limit, a
 * node that writes to its stdout and to the protocol's own fd, and a fast generator
 * of large items to a client that does not read. Real gateway on loopback, real
 * CPython node runners.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Manifest, RuntimeData } from '../web/core/internal.ts';
import { type Gateway, startGateway } from './gateway.ts';
import { islandOf, RawClient, rssMiB } from './testing/raw-client.ts';

const TOKEN = 'attack-streaming-token-0123456789';

let gateway: Gateway;

beforeAll(async () => {
  gateway = await startGateway({ port: 0, tokens: [TOKEN], containers: false });
});
afterAll(async () => {
  await gateway?.close();
});

function island(
  source: string,
  params: Record<string, unknown> = {},
  bargeIn?: Manifest['bargeIn'],
) {
  const manifest: Manifest = {
    version: 'v1',
    metadata: { name: 'attack-streaming' },
    nodes: [{ id: 'py', node_type: 'PythonNode', params: { source, params } }],
    connections: [],
    ...(bargeIn ? { bargeIn } : {}),
  };
  return islandOf(manifest, 'py', 'py');
}

/** A generator of 400 items of 0.5 MiB, as fast as it can; it counts what it made. */
const FLOOD = `
import os
from remotemedia import Node
class Flood(Node):
    def __init__(self, name=None, dir=None, **config):
        super().__init__(name, **config)
        self.dir = dir
    def process(self, data):
        block = b"y" * (1 << 19)
        for i in range(400):
            yield block
            with open(os.path.join(self.dir, "made"), "w") as f:
                f.write(str(i + 1))
`;

function madeIn(dir: string): number {
  try {
    return Number(readFileSync(join(dir, 'made'), 'utf8'));
  } catch {
    return 0;
  }
}

/** Waits until the node has made all 400 or is held back (made no more for 3 s). */
async function heldOrDone(dir: string): Promise<void> {
  let seen = -1;
  while (madeIn(dir) < 400 && madeIn(dir) !== seen) {
    seen = madeIn(dir);
    await new Promise((resolve) => setTimeout(resolve, 3000));
  }
}

const ended = (client: RawClient) =>
  client.waitFor(
    (r) => r.kind === 'control' && (r.message.type === 'done' || r.message.type === 'error'),
  );

describe("a runner's streaming responses under attack", () => {
  it('a generator of 100,000 tiny items: every item arrives, in order', async () => {
    const client = await RawClient.open(
      gateway.url,
      TOKEN,
      island(`
from remotemedia import Node
class Many(Node):
    def process(self, data):
        for i in range(100000):
            yield i
`),
    );
    try {
      client.sendFrame(0, 1, RuntimeData.json('go'));
      client.send({ type: 'end', port: 0, seq: 2 });
      const last = await ended(client);
      expect(last?.kind === 'control' && last.message.type).toBe('done');
      const values = client.received.flatMap((r) =>
        r.kind === 'frame' && r.data.kind === 'json' ? [r.data.value] : [],
      );
      expect(values.length).toBe(100_000);
      expect(values.every((v, i) => v === i)).toBe(true);
    } finally {
      client.terminate();
    }
  }, 120_000);

  it('one item of 200 MB: the runner is killed with an error naming the limit; the gateway goes on', async () => {
    const client = await RawClient.open(
      gateway.url,
      TOKEN,
      island(`
from remotemedia import Node
class Huge(Node):
    def process(self, data):
        yield b"x" * (200 << 20)
`),
    );
    try {
      client.sendFrame(0, 1, RuntimeData.json('go'));
      const { message } = await client.ending();
      expect(message?.type).toBe('error');
      const error = message?.error as { kind: string; message: string };
      expect(error.kind).toBe('worker_lost');
      expect(error.message).toMatch(/an item of \d+ bytes \(at most 67108864\)/);
      expect(gateway.metrics.unhandled).toBe(0);
    } finally {
      client.terminate();
    }
  }, 120_000);

  it("a node's print() and writes to fd 1 are its log; the protocol is untouched", async () => {
    const client = await RawClient.open(
      gateway.url,
      TOKEN,
      island(`
import os, sys
from remotemedia import Node
class Noisy(Node):
    def process(self, data):
        print("\\x00\\x00\\x00\\x00\\x05garbage", flush=True)
        os.write(1, b"\\x02\\xff\\xff\\xff\\xff")
        sys.stdout.buffer.write(b"\\x00" * 64)
        yield data
        print("more garbage")
        yield data
`),
    );
    try {
      client.sendFrame(0, 1, RuntimeData.json('x'));
      client.send({ type: 'end', port: 0, seq: 2 });
      const last = await ended(client);
      expect(last?.kind === 'control' && last.message.type).toBe('done');
      expect(client.received.filter((r) => r.kind === 'frame').length).toBe(2);
    } finally {
      client.terminate();
    }
  }, 60_000);

  it("a node that writes into the protocol's own response fd: worker_lost, this session only", async () => {
    const client = await RawClient.open(
      gateway.url,
      TOKEN,
      island(`
import os
from remotemedia import Node
class Forger(Node):
    def process(self, data):
        os.write(4, b"\\x07\\x00\\x00\\x00\\x00")
        yield data
`),
    );
    try {
      client.sendFrame(0, 1, RuntimeData.json('x'));
      const { message } = await client.ending();
      const error = message?.error as { kind: string; message: string };
      expect(error.kind).toBe('worker_lost');
      expect(error.message).toMatch(/protocol violation \(unknown response status 7\)/);
      expect(gateway.metrics.unhandled).toBe(0);
    } finally {
      client.terminate();
    }
  }, 60_000);

  // RunnerCall queued every item the runner sent, however far ahead of the client:
  // a fast generator of large items to a client that does not read filled the
  // gateway's memory (each item re-armed the call deadline, so nothing stopped it).
  it('a fast generator of 0.5 MiB items to a client that does not read: the gateway holds a bounded amount', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'attack-streaming-'));
    const client = await RawClient.open(gateway.url, TOKEN, island(FLOOD, { dir }));
    const socket = (client.ws as unknown as { _socket: Socket })._socket;
    const made = () => madeIn(dir);
    try {
      const before = rssMiB();
      socket.pause();
      client.sendFrame(0, 1, RuntimeData.json('go'));
      client.send({ type: 'end', port: 0, seq: 2 });
      await heldOrDone(dir);
      const held = rssMiB() - before;
      console.log(
        `made ${made()} of 400 half-MiB items while the client read nothing; gateway RSS +${held.toFixed(0)} MiB`,
      );
      expect(made()).toBeLessThan(150);
      expect(held).toBeLessThan(100);
      socket.resume();
      const last = await ended(client);
      expect(last?.kind === 'control' && last.message).toMatchObject({ type: 'done' });
      expect(client.received.filter((r) => r.kind === 'frame').length).toBe(400);
    } finally {
      client.terminate();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);

  it('a barge-in while the runner is held back: the call stops, the session ends cleanly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'attack-streaming-'));
    const client = await RawClient.open(gateway.url, TOKEN, island(FLOOD, { dir }, { to: ['py'] }));
    const socket = (client.ws as unknown as { _socket: Socket })._socket;
    try {
      socket.pause();
      client.sendFrame(0, 1, RuntimeData.json('go'));
      await heldOrDone(dir);
      expect(madeIn(dir)).toBeLessThan(150);
      client.send({ type: 'interrupt', port: 0 });
      client.sendFrame(0, 2, RuntimeData.control('interrupt'));
      client.send({ type: 'end', port: 0, seq: 3 });
      socket.resume();
      const last = await ended(client);
      expect(last?.kind === 'control' && last.message).toMatchObject({ type: 'done' });
      expect(madeIn(dir)).toBeLessThan(400); // stopped, not run to its end
    } finally {
      client.terminate();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
