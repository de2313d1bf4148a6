/**
 * The gateway session's input queue (steps run at once, a credit step after each
 * step's promise) under valid messages in hostile orders: `close` while a step is
 * in flight and frames after it, a client that floods `credit` (a gateway-to-client
 * message), an `interrupt` during a step, a socket cut mid-step, and `end` twice.
 * Real gateway on loopback, real CPython node runner for the slow step.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GATEWAY_PROTOCOL_VERSION, type Manifest, RuntimeData } from '../web/core/internal.ts';
import { type Gateway, startGateway } from './gateway.ts';
import { islandOf, RawClient, type Received } from './testing/raw-client.ts';

const TOKEN = 'attack-input-queue-token-0123456789';
let gateway: Gateway;
beforeAll(async () => {
  gateway = await startGateway({ port: 0, tokens: [TOKEN], containers: false });
});
afterAll(async () => {
  await gateway?.close();
});

/** A Python node whose every call takes 300 ms, then echoes. */
const SLOW: Manifest = {
  version: 'v1',
  metadata: { name: 'attack-input-queue' },
  nodes: [
    {
      id: 'py',
      node_type: 'PythonNode',
      params: {
        source: `
import time
from remotemedia import Node
class Slow(Node):
    def process(self, data):
        time.sleep(0.3)
        return data
`,
      },
    },
  ],
  connections: [],
  bargeIn: { to: ['py'] },
};
const slow = () => islandOf(SLOW, 'py', 'py');
const frames = (client: RawClient) =>
  client.received.flatMap((r) =>
    r.kind === 'frame' && r.data.kind === 'json' ? [r.data.value] : [],
  );
const last = (client: RawClient) =>
  client.waitFor(
    (r: Received) =>
      r.kind === 'control' && (r.message.type === 'done' || r.message.type === 'error'),
  );

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
  if (!check()) throw new Error(`never: ${what}`);
}

describe("the gateway's input queue in hostile orders", () => {
  it("'close' while a step runs: the queued inputs finish, a frame after it is a protocol error", async () => {
    const client = await RawClient.open(gateway.url, TOKEN, slow());
    try {
      for (let seq = 1; seq <= 3; seq++) client.sendFrame(0, seq, RuntimeData.json(seq));
      client.send({ type: 'close', seq: 4 });
      client.sendFrame(0, 5, RuntimeData.json(5));
      const { message, code } = await client.ending();
      expect(code).toBe(1008);
      expect(JSON.stringify(message)).toContain("frame 5 after 'close'");
    } finally {
      client.terminate();
    }
    await until(() => gateway.metrics.sessionsActive === 0, 'the session ended');
  }, 30_000);

  it('a client flooding 10,000 credit messages is refused at the first, the gateway goes on', async () => {
    const client = await RawClient.open(gateway.url, TOKEN, slow());
    try {
      client.sendFrame(0, 1, RuntimeData.json(1));
      for (let i = 0; i < 10_000; i++) client.send({ type: 'credit', port: 0, frames: 64 });
      const { message, code } = await client.ending();
      expect(code).toBe(1008);
      expect(JSON.stringify(message)).toMatch(/'credit' is not a client message/);
    } finally {
      client.terminate();
    }
    const next = await RawClient.open(gateway.url, TOKEN, slow());
    try {
      next.sendFrame(0, 1, RuntimeData.json('after'));
      next.send({ type: 'end', port: 0, seq: 2 });
      const end = await last(next);
      expect(end?.kind === 'control' && end.message.type).toBe('done');
      expect(frames(next)).toEqual(['after']);
    } finally {
      next.terminate();
    }
  }, 30_000);

  it('interrupts during a step and a cut mid-step end cleanly, leaving no session', async () => {
    const client = await RawClient.open(gateway.url, TOKEN, slow());
    for (let seq = 1; seq <= 10; seq++) client.sendFrame(0, seq, RuntimeData.json(seq));
    await client.waitFor((r) => r.kind === 'frame'); // frame 2's call is in flight now
    // Their frames never follow: the queued inputs are stale (dropped) from here.
    for (let i = 0; i < 500; i++) client.send({ type: 'interrupt', port: 0, timestampUs: i });
    client.sendFrame(0, 11, RuntimeData.json(11));
    await new Promise((r) => setTimeout(r, 100));
    client.terminate(); // cut while the queue is still being worked through
    await until(() => gateway.metrics.sessionsActive === 0, 'the cut session ended');
    // The gateway still serves.
    const next = await RawClient.open(gateway.url, TOKEN, slow());
    try {
      next.sendFrame(0, 1, RuntimeData.json('next'));
      next.send({ type: 'end', port: 0, seq: 2 });
      await last(next);
      expect(frames(next)).toEqual(['next']);
    } finally {
      next.terminate();
    }
  }, 30_000);

  it("'end' twice and a frame after 'end' are protocol errors naming the port", async () => {
    for (const after of ['end', 'frame'] as const) {
      const client = await RawClient.open(gateway.url, TOKEN, slow());
      try {
        client.sendFrame(0, 1, RuntimeData.json(1));
        client.send({ type: 'end', port: 0, seq: 2 });
        if (after === 'end') client.send({ type: 'end', port: 0, seq: 3 });
        else client.sendFrame(0, 3, RuntimeData.json(3));
        const { message, code } = await client.ending();
        expect(code).toBe(1008);
        expect(JSON.stringify(message)).toMatch(
          after === 'end' ? /'end' of port 0 again/ : /frame 3 on port 0 after its 'end'/,
        );
      } finally {
        client.terminate();
      }
    }
  }, 30_000);

  // One WebSocket is one session: a second 'open' on it must not start another
  // session sharing the connection (and its pooled output messages).
  it("a second 'open' on a session's connection is a protocol error; the first session ends", async () => {
    const client = await RawClient.open(gateway.url, TOKEN, slow());
    try {
      client.send({
        type: 'open',
        version: GATEWAY_PROTOCOL_VERSION,
        token: TOKEN,
        island: slow(),
      });
      const { message, code } = await client.ending();
      expect(code).toBe(1008);
      expect(JSON.stringify(message)).toMatch(/open/);
    } finally {
      client.terminate();
    }
    await until(() => gateway.metrics.sessionsActive === 0, 'no session left');
  }, 30_000);
});
