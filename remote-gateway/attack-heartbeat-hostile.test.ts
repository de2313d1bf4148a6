/**
 * The heartbeat request (gateway-protocol.ts `heartbeatMs`, idle-heartbeat.ts) from
 * clients that do not play by it, against a real gateway on loopback: values outside
 * the protocol's range or of the wrong type (a typed `protocol` error naming the field
 * and the valid range, close 1008, no beat sent), a second ask on a live session, a
 * resume that changes the interval, a client that asks and stops reading (the gateway's
 * ping drops it: beats do not pile up for ever), a drain while beats run, and timers
 * that outlive their connection. Bounds in the tests are hang detectors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'node:net';
import {
  GATEWAY_HEARTBEAT_MAX_MS,
  GATEWAY_HEARTBEAT_TEXT,
  GATEWAY_HEARTBEAT_MIN_MS,
  GATEWAY_PROTOCOL_VERSION,
  type JsonData,
  type Manifest,
  RemoteMediaError,
  RuntimeData,
} from '../web/core/internal.ts';
import type { Gateway } from './gateway.ts';
import { nodeWebSocket, startLoopbackGateway, until } from './testing/loopback.ts';
import { islandOf, RawClient, type Received } from './testing/raw-client.ts';
import { Relay } from './testing/tcp-relay.ts';
import { alive, GatewayFleet, NGINX } from './testing/gateway-fleet.ts';
import { existsSync } from 'node:fs';
import { RemoteProxyClient } from '../web/runtime/remote/remote-proxy-client.ts';

const TOKEN = 'attack-heartbeat-hostile-token-0123';
const manifest: Manifest = {
  version: 'v1',
  metadata: { name: 'attack-heartbeat-hostile' },
  nodes: [{ id: 'in', node_type: 'PassThrough', params: {} }],
  connections: [],
};
const island = islandOf(manifest, 'in', 'in');

let gateway: Gateway;
beforeAll(async () => {
  // Room for the many-connections case from one address.
  gateway = await startLoopbackGateway(TOKEN, { maxSessionsPerClient: 200 });
});
afterAll(async () => {
  await gateway?.close();
});

const isBeat = (r: Received) => r.kind === 'control' && r.message.type === 'heartbeat';
const beats = (client: RawClient, from = 0) => client.received.slice(from).filter(isBeat).length;

async function heardBeats(client: RawClient, n: number, from = 0): Promise<void> {
  while (beats(client, from) < n && client.closed === undefined) {
    await client.waitFor(isBeat, client.received.length);
  }
}

/** This process's live timers (the gateway runs in it): Node lists each as 'Timeout'. */
const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

const range = `${GATEWAY_HEARTBEAT_MIN_MS} to ${GATEWAY_HEARTBEAT_MAX_MS}`;

/** Sends `text` as the first message and returns the gateway's answer and close code. */
async function refusedFirst(text: string) {
  const client = await RawClient.connect(gateway.url);
  client.send(text);
  const { message, code } = await client.ending();
  return { message, code, beats: beats(client) };
}

const openText = (heartbeatMs: unknown) =>
  JSON.stringify({
    type: 'open',
    version: GATEWAY_PROTOCOL_VERSION,
    token: TOKEN,
    island,
    heartbeatMs,
  });
const resumeText = (heartbeatMs: unknown) =>
  JSON.stringify({
    type: 'resume',
    version: GATEWAY_PROTOCOL_VERSION,
    token: TOKEN,
    sessionId: 'no-such-session',
    resumeKey: 'no-such-key',
    received: 0,
    heartbeatMs,
  });

describe('hostile heartbeatMs values', () => {
  const hostile: [string, unknown][] = [
    ['0', 0],
    ['negative', -100],
    ['one below the minimum', GATEWAY_HEARTBEAT_MIN_MS - 1],
    ['one above the maximum', GATEWAY_HEARTBEAT_MAX_MS + 1],
    ['fractional', 150.5],
    ['huge', 1e300],
    ['a string', '100'],
    ['null', null],
    ['true', true],
    ['an object', { ms: 100 }],
  ];
  for (const [what, value] of hostile) {
    for (const [kind, text] of [
      ['open', openText],
      ['resume', resumeText],
    ] as const) {
      it(`${kind} with heartbeatMs ${what}: a protocol error naming it and its range, no beat`, async () => {
        const { message, code, beats: heard } = await refusedFirst(text(value));
        expect(code).toBe(1008);
        expect(heard).toBe(0);
        const error = (message as { error?: { kind: string; message: string } }).error;
        expect(error?.kind).toBe('protocol');
        expect(error?.message).toContain('heartbeatMs');
        expect(error?.message).toContain(range);
      });
    }
  }

  it('NaN and Infinity, which JSON cannot carry: 1e400 parses as Infinity, NaN is not JSON', async () => {
    const infinite = await refusedFirst(
      openText(0).replace('"heartbeatMs":0', '"heartbeatMs":1e400'),
    );
    expect(infinite.code).toBe(1008);
    expect(infinite.beats).toBe(0);
    expect((infinite.message as { error: { message: string } }).error.message).toContain(
      'heartbeatMs',
    );
    const nan = await refusedFirst(openText(0).replace('"heartbeatMs":0', '"heartbeatMs":NaN'));
    expect(nan.code).toBe(1008);
    expect(nan.beats).toBe(0);
    expect((nan.message as { error: { kind: string } }).error.kind).toBe('protocol');
  });

  it('the bounds themselves are accepted and echoed', async () => {
    for (const heartbeatMs of [GATEWAY_HEARTBEAT_MIN_MS, GATEWAY_HEARTBEAT_MAX_MS]) {
      const client = await RawClient.open(gateway.url, TOKEN, island, { heartbeatMs });
      const opened = client.received.find(
        (r) => r.kind === 'control' && r.message.type === 'opened',
      );
      expect(opened).toMatchObject({ message: { heartbeatMs } });
      client.terminate();
    }
  });
});

describe('asking in the wrong order', () => {
  it('a second open asking for beats on a live session is a protocol error; its timers go with it', async () => {
    const before = timers();
    const client = await RawClient.open(gateway.url, TOKEN, island, { heartbeatMs: 100 });
    client.send(openText(100));
    const { message, code } = await client.ending();
    expect(code).toBe(1008);
    expect(message).toMatchObject({ type: 'error', error: { kind: 'protocol' } });
    // The connection's ping timer and its beat timer are both cleared.
    await until(() => timers() <= before, `timers back to ${before} (now ${timers()})`);
  });

  it('refused after asking (a wrong token, an island that cannot open): no beat, no timer left', async () => {
    const before = timers();
    const wrongToken = await refusedFirst(openText(100).replace(TOKEN, 'not-the-token-0123456789'));
    expect(wrongToken.message).toMatchObject({ type: 'error', error: { kind: 'unauthorized' } });
    expect(wrongToken.beats).toBe(0);
    const badIsland = await refusedFirst(
      JSON.stringify({
        type: 'open',
        version: GATEWAY_PROTOCOL_VERSION,
        token: TOKEN,
        island: islandOf(
          { ...manifest, nodes: [{ id: 'in', node_type: 'NoSuchNode', params: {} }] },
          'in',
          'in',
        ),
        heartbeatMs: 100,
      }),
    );
    expect(badIsland.message).toMatchObject({ type: 'error' });
    expect(badIsland.beats).toBe(0);
    await until(() => timers() <= before, `timers back to ${before} (now ${timers()})`);
  });

  it('a resume that changes the interval: the new connection beats at its own', async () => {
    // Opened asking for the longest interval: no beat would come for 15 minutes.
    const first = await RawClient.open(gateway.url, TOKEN, island, {
      heartbeatMs: GATEWAY_HEARTBEAT_MAX_MS,
      resume: true,
    });
    const opened = first.received.find((r) => r.kind === 'control')!;
    const { sessionId, resumeKey } = (opened as { message: Record<string, string> }).message;
    first.terminate();
    await first.closing;
    const second = await RawClient.connect(gateway.url);
    try {
      second.send({
        type: 'resume',
        version: GATEWAY_PROTOCOL_VERSION,
        token: TOKEN,
        sessionId,
        resumeKey,
        received: 0,
        heartbeatMs: GATEWAY_HEARTBEAT_MIN_MS,
      });
      const resumed = await second.waitFor((r) => r.kind === 'control' && !isBeat(r));
      expect(resumed).toMatchObject({ message: { type: 'resumed' } });
      await heardBeats(second, 3);
      expect(beats(second)).toBeGreaterThanOrEqual(3);
      expect(second.open).toBe(true);
    } finally {
      second.terminate();
    }
  });

  it('60 connections asking the minimum, then gone: one beat timer each, none left after', async () => {
    const before = timers();
    const clients = await Promise.all(
      Array.from({ length: 60 }, () =>
        RawClient.open(gateway.url, TOKEN, island, { heartbeatMs: GATEWAY_HEARTBEAT_MIN_MS }),
      ),
    );
    // Each connection: ws's ping timer (as before) and one beat timer.
    const during = timers() - before;
    expect(during).toBeGreaterThanOrEqual(120);
    await Promise.all(clients.map((c) => heardBeats(c, 1)));
    for (const client of clients) client.terminate();
    await until(() => timers() <= before, `timers back to ${before} (now ${timers()})`);
    console.log(
      `heartbeat: 60 connections at ${GATEWAY_HEARTBEAT_MIN_MS} ms held ${during} timers`,
    );
  }, 30_000);
});

describe('a client that asks and stops reading', () => {
  it("is dropped by the gateway's ping: beats do not pile up behind it", async () => {
    const pinging = await startLoopbackGateway(TOKEN, { heartbeatMs: 300 });
    try {
      const client = await RawClient.open(pinging.url, TOKEN, island, {
        heartbeatMs: GATEWAY_HEARTBEAT_MIN_MS,
      });
      expect(pinging.connections.connections).toBe(1);
      // Reads nothing from here on: neither beats nor pings are taken, no pong goes back.
      (client.ws as unknown as { _socket: Socket })._socket.pause();
      await until(
        () => pinging.connections.connections === 0,
        'the gateway drops a client that stopped reading',
      );
      expect(pinging.metrics.sessionsActive).toBe(0);
    } finally {
      await pinging.close();
    }
  }, 30_000);
});

describe('heartbeats during a drain', () => {
  it('an idle session keeps hearing beats after "draining", until the drain cuts it', async () => {
    const draining = await startLoopbackGateway(TOKEN);
    const client = await RawClient.open(draining.url, TOKEN, island, {
      heartbeatMs: GATEWAY_HEARTBEAT_MIN_MS,
    });
    await heardBeats(client, 1);
    const drained = draining.drain(1500);
    const told = await client.waitFor((r) => r.kind === 'control' && r.message.type === 'draining');
    expect(told).toBeDefined();
    const from = client.received.indexOf(told!);
    // Still alive to the client: a liveness check must not take the drain for a hang.
    await heardBeats(client, 3, from);
    expect(beats(client, from)).toBeGreaterThanOrEqual(3);
    const result = await drained;
    expect(result).toEqual({ finished: 0, cut: 1 });
    await client.closing;
    const afterClose = client.received.length;
    await new Promise((resolve) => setTimeout(resolve, 3 * GATEWAY_HEARTBEAT_MIN_MS));
    expect(client.received.length).toBe(afterClose);
  }, 30_000);
});

/** A Python node whose module takes `seconds` to load: the island opens that slowly. */
const slowOpen = (seconds: number): Manifest => ({
  version: 'v1',
  metadata: { name: 'attack-heartbeat-slow-open' },
  nodes: [
    {
      id: 'py',
      node_type: 'PythonNode',
      params: {
        source: `
import time
time.sleep(${seconds})
from remotemedia import Node
class Echo(Node):
    def process(self, data):
        return data
`,
      },
    },
  ],
  connections: [],
});

describe('the TypeScript client hears beats before its answer', () => {
  it('an open slower than livenessTimeoutMs: beats before "opened" keep it, and it streams', async () => {
    const client = new RemoteProxyClient(
      { host: '127.0.0.1', port: gateway.port },
      { token: TOKEN, WebSocket: nodeWebSocket, livenessTimeoutMs: 400 },
    );
    const started = Date.now();
    const session = await client.stream(slowOpen(1.5));
    const openMs = Date.now() - started;
    expect(openMs).toBeGreaterThan(400); // longer than the deadline: only beats kept it
    await session.sendInput(RuntimeData.json(5));
    const first = await session[Symbol.asyncIterator]().next();
    expect((first.value?.data as JsonData | undefined)?.value).toBe(5);
    await session.close();
  }, 30_000);

  it('a gateway that goes silent before "opened": the open fails unreachable, naming livenessTimeoutMs', async () => {
    const relay = await Relay.start(gateway.port);
    try {
      const client = new RemoteProxyClient(
        { host: '127.0.0.1', port: relay.port, reconnect: false },
        { token: TOKEN, WebSocket: nodeWebSocket, livenessTimeoutMs: 400 },
      );
      const opening = client.stream(slowOpen(3)).then(
        () => undefined,
        (error: unknown) => error,
      );
      // Once a beat has reached the client (its island still opening), the gateway
      // goes quiet. (Before any beat the client cannot know that this gateway beats:
      // an older one never does, and its open may take as long as the island's.)
      await until(() => relay.sockets.size === 2, 'the client connected');
      // Frozen right after the relay has passed a beat on (a server frame is not
      // masked: its text is in the bytes). Counting bytes instead (the most written by
      // either socket) could count the client's own upgrade request and open, so the
      // freeze came before any beat now and then: the open then waited on a gateway
      // it could not know beats, and the test timed out.
      await new Promise<void>((resolve) => {
        for (const socket of relay.sockets) {
          let heard = '';
          // Added after the relay's pipe, so it runs once the chunk is passed on.
          socket.on('data', (chunk: Buffer) => {
            heard += chunk.toString('latin1');
            if (!heard.includes(GATEWAY_HEARTBEAT_TEXT)) return;
            relay.freeze();
            resolve();
          });
        }
      });
      const error = (await opening) as RemoteMediaError;
      expect(error).toBeInstanceOf(RemoteMediaError);
      expect(error.message).toMatch(
        /went silent for 400 ms \(livenessTimeoutMs\) before answering/,
      );
    } finally {
      await relay.close();
    }
  }, 30_000);
});

describe.skipIf(!existsSync(NGINX))('SIGTERM to a gateway process while beats run', () => {
  it('the idle session hears "draining", then beats until the drain deadline cuts it; the process exits', async () => {
    const fleet = await GatewayFleet.start(1, ['--token', TOKEN, '--drain-timeout-ms', '1500']);
    try {
      const member = fleet.members[0]!;
      const client = await RawClient.open(`ws://127.0.0.1:${member.port}/v1`, TOKEN, island, {
        heartbeatMs: GATEWAY_HEARTBEAT_MIN_MS,
      });
      await heardBeats(client, 1);
      const exited = fleet.terminate(member);
      const told = await client.waitFor(
        (r) => r.kind === 'control' && r.message.type === 'draining',
      );
      expect(told).toBeDefined();
      const from = client.received.indexOf(told!);
      await heardBeats(client, 3, from);
      expect(beats(client, from)).toBeGreaterThanOrEqual(3);
      await client.closing;
      await exited;
      expect(alive(member.pid)).toBe(false);
    } finally {
      await fleet.stop();
    }
  }, 60_000);
});
