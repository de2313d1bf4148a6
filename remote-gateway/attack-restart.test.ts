/**
 * restartOnLoss against gateways that keep dying: a real gateway on loopback behind
 * a TCP relay the test cuts (both ends see the stream die, as when a network or a
 * machine goes). The client must not restart without bound, must give up with an
 * error that says why, and an abort during a restart must leave no socket or
 * session behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Manifest, RemoteMediaError, RuntimeData } from '../web/core/internal.ts';
import { RemoteProxyClient } from '../web/runtime/remote/remote-proxy-client.ts';
import type { Gateway } from './gateway.ts';
import { nodeWebSocket as ws, startLoopbackGateway, until } from './testing/loopback.ts';
import { Relay } from './testing/tcp-relay.ts';

const TOKEN = 'attack-restart-token-0123456789';
const manifest: Manifest = {
  version: 'v1',
  metadata: { name: 'attack-restart' },
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

describe('restartOnLoss under a gateway that keeps dying', () => {
  it('a session lost on every gateway it opens on stops after maxRestarts, saying so', async () => {
    const relay = await Relay.start(gateway.port);
    let connections = 0;
    relay.server.on('connection', () => connections++);
    try {
      const client = new RemoteProxyClient(
        { host: '127.0.0.1', port: relay.port },
        { token: TOKEN, WebSocket: ws, restartOnLoss: true, maxRestarts: 3 },
      );
      const session = await client.stream(manifest);
      let restarts = 0;
      // Every gateway it lands on dies as soon as the session runs there.
      session.on('restarted', () => {
        restarts++;
        relay.cut();
      });
      await session.sendInput(RuntimeData.json(1));
      relay.cut();
      const error = await session.close().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(RemoteMediaError);
      expect((error as RemoteMediaError).kind).toBe('worker_lost');
      expect((error as RemoteMediaError).message).toMatch(
        /not restarted: this session was restarted 3 times already \(maxRestarts 3\)/,
      );
      expect(restarts).toBe(3);
      expect(connections).toBe(4); // the first open and one per restart: no storm
      await until(() => gateway.metrics.sessionsActive === 0, 'every session ended');
    } finally {
      await relay.close();
    }
  }, 60_000);

  it('with no gateway left, a restart gives up at its window, trying with backoff, not in a storm', async () => {
    const relay = await Relay.start(gateway.port);
    let connections = 0;
    relay.server.on('connection', () => connections++);
    try {
      const client = new RemoteProxyClient(
        { host: '127.0.0.1', port: relay.port },
        { token: TOKEN, WebSocket: ws, restartOnLoss: true, reconnectWindowMs: 1500 },
      );
      const session = await client.stream(manifest);
      await session.sendInput(RuntimeData.json(1));
      relay.target = 1; // nothing listens there: every attempt is refused at once
      relay.cut();
      const error = await session.close().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((error as RemoteMediaError).message).toMatch(
        /restarting the island found no gateway at .* within 1500 ms/,
      );
      // Attempts back off 100, 200, 400, 800 ms...: a handful, never hundreds.
      expect(connections - 1).toBeLessThanOrEqual(8);
      await until(() => gateway.metrics.sessionsActive === 0, 'every session ended');
    } finally {
      await relay.close();
    }
  }, 60_000);

  it('an abort while a restart is under way ends the session at once and opens nothing after', async () => {
    const relay = await Relay.start(gateway.port);
    let connections = 0;
    relay.server.on('connection', () => connections++);
    try {
      const client = new RemoteProxyClient(
        { host: '127.0.0.1', port: relay.port },
        { token: TOKEN, WebSocket: ws, restartOnLoss: true, reconnectWindowMs: 30_000 },
      );
      const session = await client.stream(manifest);
      await session.sendInput(RuntimeData.json(1));
      relay.target = 1;
      relay.cut();
      await until(() => connections >= 3, 'restart attempts began'); // backing off now
      const closing = session.close().then(
        () => undefined,
        (e: unknown) => e,
      );
      session.abort('the user hung up');
      const error = await closing;
      expect((error as RemoteMediaError).kind).toBe('aborted');
      const after = connections;
      // The gateway comes back: an aborted session must not open itself there.
      relay.target = gateway.port;
      await new Promise((r) => setTimeout(r, 2500)); // longer than any backoff step
      expect(connections).toBe(after);
      expect(gateway.metrics.sessionsActive).toBe(0);
      expect(relay.sockets.size).toBe(0);
    } finally {
      await relay.close();
    }
  }, 60_000);
});
