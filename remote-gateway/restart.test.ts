/**
 * A runtime's remote island with `remote.restart_on_loss`, for real: two gateways on
 * loopback behind a TCP relay standing in for a balancer. The island streams through
 * channels as the runtime's islands do; its connection is cut and the relay sent to
 * the other gateway, which cannot resume a session it never had: the island opens
 * again there, carries on with the next frame, and its `restarted` event names
 * exactly the frames that never came back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type JsonData, type Manifest, RuntimeData } from '../web/core/internal.ts';
import { createChannel, openReader, openWriter } from '../web/runtime/channel/channel.ts';
import { RemoteIsland } from '../web/runtime/remote/remote-island.ts';
import { RemoteProxyClient } from '../web/runtime/remote/remote-proxy-client.ts';
import { type RestartedEvent } from '../web/runtime/remote/gateway-connection.ts';
import { type Gateway, startGateway } from './gateway.ts';
import { Relay } from './testing/tcp-relay.ts';

const TOKEN = 'restart-token-0123456789';
const FRAMES = 120;
const manifest: Manifest = {
  version: 'v1',
  metadata: { name: 'restart' },
  nodes: [{ id: 'in', node_type: 'PassThrough', params: {} }],
  connections: [],
};

let first: Gateway;
let second: Gateway;
beforeAll(async () => {
  first = await startGateway({ port: 0, tokens: [TOKEN], name: 'first', containers: false });
  second = await startGateway({ port: 0, tokens: [TOKEN], name: 'second', containers: false });
});
afterAll(async () => {
  await first?.close();
  await second?.close();
});

describe('a remote island with restart_on_loss', () => {
  it('restarts on the other gateway when its own is lost, carries on, and names the frames lost', async () => {
    const relay = await Relay.start(first.port);
    try {
      const input = createChannel('messages');
      const output = createChannel('messages');
      const island = await RemoteIsland.start(
        {
          manifest,
          inputs: [{ endpoint: input.reader, sources: ['in'] }],
          outputs: [{ endpoint: output.writer, sink: 'in' }],
        },
        { host: '127.0.0.1', port: relay.port, reconnect: true, restart_on_loss: true },
        { token: TOKEN, WebSocket: WebSocket as unknown as typeof globalThis.WebSocket },
      );
      const writer = openWriter(input.writer);
      const reader = openReader(output.reader);
      const received: number[] = [];
      const reading = (async () => {
        for (let data = await reader.read(); data; data = await reader.read()) {
          received.push((data as JsonData).value as number);
        }
      })();
      for (let i = 1; i <= FRAMES; i++) {
        if (i === 41) {
          // Every answer so far is back; then the connection is lost, and what is sent
          // before the client notices goes nowhere (in flight, never answered).
          while (received.length < 40) await new Promise((r) => setTimeout(r, 5));
          relay.target = second.port;
          relay.cut();
        }
        const waiting = writer.write(RuntimeData.json(i));
        if (waiting) await waiting;
      }
      writer.end();
      await reading;
      await island.done;

      expect(island.restarts).toHaveLength(1);
      const event = island.restarts[0]!;
      expect(event).toMatchObject({
        type: 'restarted',
        lostGateway: 'first',
        gateway: 'second',
        nodesReset: ['in'],
        received: [40],
        restarts: 1,
      });
      expect(event.reason).toMatch(/cannot be resumed/);
      expect(event.sent[0]!.first).toBe(1);
      // Exact: every frame came back once or is named lost, never both, none missing.
      const lost = event.lost[0]!.frames;
      expect(lost).toEqual(Array.from({ length: event.sent[0]!.last - 40 }, (_, k) => 41 + k));
      expect([...received, ...lost].sort((a, b) => a - b)).toEqual(
        Array.from({ length: FRAMES }, (_, k) => k + 1),
      );
      expect(received.at(-1)).toBe(FRAMES); // carried on to the end on the second gateway
    } finally {
      await relay.close();
    }
  }, 60_000);

  it('a session cut by a draining gateway at its deadline is handed back: it restarts on another, losing nothing in flight', async () => {
    const leaving = await startGateway({
      port: 0,
      tokens: [TOKEN],
      name: 'leaving',
      containers: false,
    });
    const relay = await Relay.start(leaving.port);
    try {
      const client = new RemoteProxyClient(
        { host: '127.0.0.1', port: relay.port, reconnect: true },
        {
          token: TOKEN,
          WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
          restartOnLoss: true,
        },
      );
      const session = await client.stream(manifest);
      const restarted = new Promise<RestartedEvent>((resolve) => session.on('restarted', resolve));
      const received: number[] = [];
      const reading = (async () => {
        for await (const out of session) received.push((out.data as JsonData).value as number);
      })();
      for (let i = 1; i <= 30; i++) await session.sendInput(RuntimeData.json(i));
      while (received.length < 30) await new Promise((r) => setTimeout(r, 5));
      relay.target = second.port; // the balancer's next pick
      const drained = leaving.drain(200); // the session does not end by itself: cut at 200 ms
      const event = await restarted;
      for (let i = 31; i <= 60; i++) await session.sendInput(RuntimeData.json(i));
      await session.close();
      await reading;
      expect(await drained).toEqual({ finished: 0, cut: 1 });
      expect(event).toMatchObject({
        lostGateway: 'leaving',
        gateway: 'second',
        lost: [{ port: 0, frames: [] }],
        sent: [{ port: 0, first: 1, last: 30 }],
        received: [30],
      });
      expect(received).toEqual(Array.from({ length: 60 }, (_, k) => k + 1));
      console.log(`drain cut, restart reason: ${event.reason}`);
    } finally {
      await relay.close();
      await leaving.close();
    }
  }, 60_000);
});
