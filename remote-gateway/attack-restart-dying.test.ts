/**
 * restartOnLoss when the gateway it restarts on dies during the restart itself: the
 * TCP connection is taken and never answered (a SIGSTOPped gateway: the kernel still
 * accepts), or the WebSocket is upgraded and cut at the `open`. Real gateway on
 * loopback behind a TCP relay the test moves and cuts (testing/tcp-relay.ts). The
 * restart must end with a typed worker_lost within its reconnect window (a generous
 * bound stands for "no hang"), and leave no socket or timer of its own behind
 * (process.getActiveResourcesInfo, counted before and after).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Manifest, RemoteMediaError, RuntimeData } from '../web/core/internal.ts';
import { RemoteProxyClient } from '../web/runtime/remote/remote-proxy-client.ts';
import type { Gateway } from './gateway.ts';
import {
  blackHole,
  dyingGateway,
  nodeWebSocket as ws,
  startLoopbackGateway,
  until,
} from './testing/loopback.ts';
import { Relay } from './testing/tcp-relay.ts';

const TOKEN = 'attack-restart-dying-token-0123456789';
const manifest: Manifest = {
  version: 'v1',
  metadata: { name: 'attack-restart-dying' },
  nodes: [{ id: 'in', node_type: 'PassThrough', params: {} }],
  connections: [],
};
let gateway: Gateway;
beforeAll(async () => {
  gateway = await startLoopbackGateway(TOKEN);
});
afterAll(async () => {
  await gateway?.close();
});

/** Active handles by type (Timeout, TCPSocketWrap, ...). */
function resources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const name of process.getActiveResourcesInfo()) counts[name] = (counts[name] ?? 0) + 1;
  return counts;
}

async function settleOrHang(promise: Promise<unknown>, boundMs: number): Promise<unknown> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise((resolve) => (timer = setTimeout(() => resolve('hung'), boundMs)));
  try {
    return await Promise.race([
      promise.then(
        () => 'resolved',
        (e: unknown) => e,
      ),
      hung,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

describe('restartOnLoss when the restart itself meets a dying gateway', () => {
  // GatewayConnection.connect had no deadline of its own: a restart (or resume, or
  // open) whose TCP connection was accepted and never answered waited for ever,
  // past reconnectWindowMs, and the session never ended.
  it('a gateway that accepts the connection and never answers: worker_lost within the window', async () => {
    const relay = await Relay.start(gateway.port);
    const hole = await blackHole();
    try {
      const client = new RemoteProxyClient(
        { host: '127.0.0.1', port: relay.port },
        { token: TOKEN, WebSocket: ws, restartOnLoss: true, reconnectWindowMs: 1500 },
      );
      const session = await client.stream(manifest);
      await session.sendInput(RuntimeData.json(1));
      const before = resources();
      relay.target = hole.port; // the restart lands on a stopped gateway
      relay.cut();
      const error = await settleOrHang(session.close(), 20_000);
      expect(error).toBeInstanceOf(RemoteMediaError);
      expect((error as RemoteMediaError).kind).toBe('worker_lost');
      expect((error as RemoteMediaError).message).toMatch(/within 1500 ms/);
      await until(() => hole.held.size === 0, 'the restart let go of the silent connection');
      await until(() => relay.sockets.size === 0, 'no relayed socket left');
      const after = resources();
      expect(after.Timeout ?? 0).toBeLessThanOrEqual(before.Timeout ?? 0);
      expect(after.TCPSocketWrap ?? 0).toBeLessThanOrEqual(before.TCPSocketWrap ?? 0);
    } finally {
      await relay.close();
      await hole.close();
    }
  }, 60_000);

  // A balancer (least_conn) may send the restart to the stopped gateway, which then
  // holds no connections; its next pick is a live one. One attempt that waited the
  // whole window on the silent upgrade failed the restart (python-restart.test.ts's
  // SIGSTOP case, now and then); each attempt now waits a quarter of it (>= 1 s).
  it('a restart whose first attempt lands on a stopped gateway tries again and reaches a live one within the window', async () => {
    const relay = await Relay.start(gateway.port);
    const hole = await blackHole();
    try {
      const client = new RemoteProxyClient(
        { host: '127.0.0.1', port: relay.port },
        { token: TOKEN, WebSocket: ws, restartOnLoss: true, reconnectWindowMs: 6000 },
      );
      const session = await client.stream(manifest);
      const restarted = new Promise<void>((resolve) => session.on('restarted', () => resolve()));
      await session.sendInput(RuntimeData.json(1));
      await session.recvOutput();
      relay.target = hole.port; // the first attempt lands on a stopped gateway
      relay.cut();
      await until(() => hole.held.size > 0, 'the restart reached the stopped gateway');
      relay.target = gateway.port; // the balancer's next pick: a live gateway
      expect(await settleOrHang(restarted, 20_000)).toBe('resolved');
      await session.sendInput(RuntimeData.json(2));
      expect((await session.recvOutput())?.data).toEqual(RuntimeData.json(2));
      await session.close();
      await until(() => hole.held.size === 0, 'the silent connection let go');
    } finally {
      await relay.close();
      await hole.close();
    }
  }, 60_000);

  it('a gateway that upgrades and is cut at the open: tried within the window, then worker_lost', async () => {
    const relay = await Relay.start(gateway.port);
    // Upgrades, then dies as the `open` arrives (killed mid-restart).
    const dying = await dyingGateway();
    try {
      const client = new RemoteProxyClient(
        { host: '127.0.0.1', port: relay.port },
        { token: TOKEN, WebSocket: ws, restartOnLoss: true, reconnectWindowMs: 1500 },
      );
      const session = await client.stream(manifest);
      await session.sendInput(RuntimeData.json(1));
      const before = resources();
      relay.target = dying.port;
      relay.cut();
      const error = await settleOrHang(session.close(), 20_000);
      expect(error).toBeInstanceOf(RemoteMediaError);
      expect((error as RemoteMediaError).kind).toBe('worker_lost');
      expect(dying.opens).toBeGreaterThan(0);
      expect(dying.opens).toBeLessThanOrEqual(10); // backed off, not a storm
      await until(() => relay.sockets.size === 0, 'no relayed socket left');
      const after = resources();
      expect(after.Timeout ?? 0).toBeLessThanOrEqual(before.Timeout ?? 0);
      expect(after.TCPSocketWrap ?? 0).toBeLessThanOrEqual(before.TCPSocketWrap ?? 0);
      await until(() => gateway.metrics.sessionsActive === 0, 'every session ended');
    } finally {
      await relay.close();
      await dying.close();
    }
  }, 60_000);

  // The deadline is for reaching a live gateway, not for its answer: an island whose
  // nodes take longer to initialise than the window still restarts (a model loading).
  it('a restart on a gateway slow to open the island (init 2.5 s, window 1.5 s) succeeds', async () => {
    const relay = await Relay.start(gateway.port);
    const slowOpen: Manifest = {
      version: 'v1',
      metadata: { name: 'attack-restart-slow-open' },
      nodes: [
        {
          id: 'py',
          node_type: 'PythonNode',
          params: {
            source: `
import time
from remotemedia import Node
class SlowStart(Node):
    def __init__(self, **config):
        super().__init__(**config)
        time.sleep(2.5)
    def process(self, data):
        return data
`,
          },
        },
      ],
      connections: [],
    };
    try {
      const client = new RemoteProxyClient(
        { host: '127.0.0.1', port: relay.port },
        { token: TOKEN, WebSocket: ws, restartOnLoss: true, reconnectWindowMs: 1500 },
      );
      const session = await client.stream(slowOpen);
      let restarted = 0;
      const once = new Promise<void>((resolve) =>
        session.on('restarted', () => {
          restarted++;
          resolve();
        }),
      );
      await session.sendInput(RuntimeData.json(1));
      await session.recvOutput();
      relay.cut();
      await once; // an input written before the client saw the cut would be lost (by design)
      await session.sendInput(RuntimeData.json(2));
      const next = await session.recvOutput();
      expect(next?.data).toEqual(RuntimeData.json(2));
      expect(restarted).toBe(1);
      await session.close();
    } finally {
      await relay.close();
    }
  }, 60_000);

  // The first open had no deadline either: stream() on a stopped gateway never settled.
  it('opening a session on a gateway that takes the connection and never answers is a typed error', async () => {
    const hole = await blackHole();
    try {
      const client = new RemoteProxyClient(
        { host: '127.0.0.1', port: hole.port },
        { token: TOKEN, WebSocket: ws, reconnectWindowMs: 1000 },
      );
      const error = await settleOrHang(client.stream(manifest), 20_000);
      expect(error).toBeInstanceOf(RemoteMediaError);
      expect((error as RemoteMediaError).message).toMatch(/did not answer within 1000 ms/);
      await until(() => hole.held.size === 0, 'the open let go of the silent connection');
    } finally {
      await hole.close();
    }
  }, 60_000);

  it('maxRestarts 0: the first loss is a worker_lost naming the limit, nothing reopened', async () => {
    const relay = await Relay.start(gateway.port);
    let connections = 0;
    relay.server.on('connection', () => connections++);
    try {
      const client = new RemoteProxyClient(
        { host: '127.0.0.1', port: relay.port },
        { token: TOKEN, WebSocket: ws, restartOnLoss: true, maxRestarts: 0 },
      );
      const session = await client.stream(manifest);
      await session.sendInput(RuntimeData.json(1));
      relay.cut();
      const error = await settleOrHang(session.close(), 20_000);
      expect((error as RemoteMediaError).kind).toBe('worker_lost');
      expect((error as RemoteMediaError).message).toMatch(/maxRestarts 0/);
      expect(connections).toBe(1);
    } finally {
      await relay.close();
    }
  }, 60_000);
});
