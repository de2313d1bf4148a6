/**
 * Application-level liveness (gateway-protocol.ts `heartbeat`, idle-heartbeat.ts),
 * against a real gateway on loopback. The gateway beats only to a client that asked
 * and only on intervals in which it sent nothing else (counted on the raw socket); a
 * client that ignores the beats keeps its session. The TypeScript client, behind a
 * TCP relay the test freezes (the connection stays open and goes silent, as a
 * SIGSTOPped gateway's does), takes the silence past livenessTimeoutMs as a lost
 * gateway: with restartOnLoss it restarts and carries on, without it the session
 * ends with worker_lost saying so. Bounds in the tests are hang detectors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import {
  type JsonData,
  type Manifest,
  RemoteMediaError,
  RuntimeData,
} from '../web/core/internal.ts';
import { RemoteProxyClient } from '../web/runtime/remote/remote-proxy-client.ts';
import type { Gateway } from './gateway.ts';
import { nodeWebSocket as ws, startLoopbackGateway } from './testing/loopback.ts';
import {
  type PythonError,
  type PythonRestart,
  startPython,
  testingScript,
} from './testing/python-client.ts';
import { islandOf, RawClient, type Received } from './testing/raw-client.ts';
import { Relay } from './testing/tcp-relay.ts';

const TOKEN = 'attack-liveness-token-0123456789';
const manifest: Manifest = {
  version: 'v1',
  metadata: { name: 'attack-liveness' },
  nodes: [{ id: 'in', node_type: 'PassThrough', params: {} }],
  connections: [],
};
const island = islandOf(manifest, 'in', 'in');

let gateway: Gateway;
beforeAll(async () => {
  gateway = await startLoopbackGateway(TOKEN);
});
afterAll(async () => {
  await gateway?.close();
});

const isBeat = (r: Received) => r.kind === 'control' && r.message.type === 'heartbeat';
const beats = (client: RawClient) => client.received.filter(isBeat).length;

/** Resolves once `client` has received `n` heartbeats (or closed). */
async function heardBeats(client: RawClient, n: number): Promise<void> {
  while (beats(client) < n && client.closed === undefined) {
    await client.waitFor(isBeat, client.received.length);
  }
}

describe('the gateway beats on quiet intervals to clients that asked', () => {
  it('only the client that asked hears beats; it ignores them and keeps its session', async () => {
    const asking = await RawClient.open(gateway.url, TOKEN, island, { heartbeatMs: 100 });
    const silent = await RawClient.open(gateway.url, TOKEN, island);
    try {
      const opened = asking.received.find(
        (r) => r.kind === 'control' && r.message.type === 'opened',
      );
      expect(opened).toMatchObject({ message: { heartbeatMs: 100 } });
      const notAsked = silent.received.find((r) => r.kind === 'control');
      expect(notAsked?.kind === 'control' && notAsked.message.heartbeatMs).toBeUndefined();
      // Neither answers a beat: the asking one hears 8, the other none meanwhile.
      await heardBeats(asking, 8);
      expect(beats(asking)).toBeGreaterThanOrEqual(8);
      expect(beats(silent)).toBe(0);
      expect(asking.received.filter((r) => !isBeat(r))).toHaveLength(1); // `opened` only
      // Ignored beats cost the session nothing: it still answers.
      asking.sendFrame(0, 1, RuntimeData.json(7));
      const echoed = await asking.waitFor((r) => r.kind === 'frame');
      expect(echoed).toMatchObject({ kind: 'frame', sequence: 1, data: RuntimeData.json(7) });
      expect(asking.open).toBe(true);
    } finally {
      asking.terminate();
      silent.terminate();
    }
  });

  it('no beat while data flows: a ping-pong stream hears none, then idle, it does', async () => {
    // A beat is owed only after a whole interval with nothing sent; each frame here
    // is answered within a few ms, so even a busy machine's stall is far shorter.
    const client = await RawClient.open(gateway.url, TOKEN, island, { heartbeatMs: 1000 });
    try {
      const started = Date.now();
      let sent = 0;
      // At least five intervals of back-to-back frames, one in flight at a time.
      while (Date.now() - started < 5000 || sent < 50) {
        const from = client.received.length;
        client.sendFrame(0, ++sent, RuntimeData.json(sent));
        const echoed = await client.waitFor((r) => r.kind === 'frame', from);
        expect(echoed).toMatchObject({ sequence: sent });
      }
      const frames = client.received.filter((r) => r.kind === 'frame').length;
      expect(frames).toBe(sent);
      expect(beats(client)).toBe(0);
      // Quiet now: the beats start.
      await heardBeats(client, 2);
      expect(beats(client)).toBe(2);
      console.log(
        `liveness: ${sent} frames in ${Date.now() - started} ms, no heartbeat among them`,
      );
    } finally {
      client.terminate();
    }
  }, 60_000);
});

/** A session through `relay` that has had `n` frames answered. */
async function streaming(
  relay: Relay,
  options: { restartOnLoss?: boolean; livenessTimeoutMs?: number; reconnect?: boolean },
) {
  const client = new RemoteProxyClient(
    { host: '127.0.0.1', port: relay.port, reconnect: options.reconnect ?? false },
    { token: TOKEN, WebSocket: ws, reconnectWindowMs: 1500, ...options },
  );
  const session = await client.stream(manifest);
  const received: number[] = [];
  const reading = (async () => {
    for await (const output of session) received.push((output.data as JsonData).value as number);
  })().then(
    () => undefined,
    (error: unknown) => error,
  );
  return { session, received, reading };
}

const waitFor = async (what: () => boolean) => {
  while (!what()) await new Promise((resolve) => setTimeout(resolve, 10));
};

describe('the TypeScript client when its gateway goes silent on an open connection', () => {
  it('with restartOnLoss: restarted after livenessTimeoutMs of silence, and it carries on', async () => {
    const relay = await Relay.start(gateway.port);
    try {
      const { session, received, reading } = await streaming(relay, {
        restartOnLoss: true,
        livenessTimeoutMs: 1000,
      });
      const events: { reason: string; lost: { frames: number[] }[] }[] = [];
      session.on('restarted', (event) => events.push(event));
      for (let i = 1; i <= 10; i++) await session.sendInput(RuntimeData.json(i));
      await waitFor(() => received.length === 10);
      relay.freeze(); // open and silent; the restart's new connection is relayed
      // Sent into the silent connection: lost with it (in flight when it went quiet).
      for (let i = 11; i <= 20; i++) await session.sendInput(RuntimeData.json(i));
      await waitFor(() => events.length === 1);
      for (let i = 21; i <= 30; i++) await session.sendInput(RuntimeData.json(i));
      await session.close();
      expect(await reading).toBeUndefined();
      expect(events).toHaveLength(1);
      expect(events[0]!.reason).toMatch(
        /the gateway sent nothing for \d+ ms \(livenessTimeoutMs 1000\): it is paused, hung or unreachable \(session \S+ at ws:/,
      );
      const lost = events[0]!.lost[0]!.frames;
      expect(lost).toEqual(Array.from({ length: 10 }, (_, k) => 11 + k));
      expect([...received, ...lost].sort((a, b) => a - b)).toEqual(
        Array.from({ length: 30 }, (_, k) => k + 1),
      );
      expect(received.at(-1)).toBe(30);
    } finally {
      await relay.close();
    }
  }, 60_000);

  it('without restartOnLoss: a worker_lost error saying why, soon after the deadline', async () => {
    const relay = await Relay.start(gateway.port);
    try {
      const { session, received, reading } = await streaming(relay, { livenessTimeoutMs: 1000 });
      for (let i = 1; i <= 5; i++) await session.sendInput(RuntimeData.json(i));
      await waitFor(() => received.length === 5);
      relay.freeze();
      const error = (await reading) as RemoteMediaError;
      expect(error).toBeInstanceOf(RemoteMediaError);
      expect(error.kind).toBe('worker_lost');
      expect(error.message).toMatch(/sent nothing for \d+ ms \(livenessTimeoutMs 1000\)/);
      await expect(session.sendInput(RuntimeData.json(6))).rejects.toBe(error);
    } finally {
      await relay.close();
    }
  }, 60_000);

  it('a resumed session is beaten to again: idle for three deadlines after a cut, it lives on', async () => {
    const relay = await Relay.start(gateway.port);
    try {
      const { session, received, reading } = await streaming(relay, {
        livenessTimeoutMs: 1000,
        reconnect: true,
      });
      const events: unknown[] = [];
      session.on('restarted', (event) => events.push(event));
      await session.sendInput(RuntimeData.json(1));
      await waitFor(() => received.length === 1);
      const resumed = gateway.metrics.resumedTotal;
      relay.cut(); // resumed on a new connection, which asks for heartbeats too
      await session.sendInput(RuntimeData.json(2));
      await waitFor(() => received.length === 2);
      // Quiet: only the gateway's beats on the resumed connection keep it alive.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      await session.sendInput(RuntimeData.json(3));
      await session.close();
      expect(await reading).toBeUndefined();
      expect(received).toEqual([1, 2, 3]);
      expect(events).toEqual([]);
      // Resumed once, for the cut: a silent resumed connection would be resumed again.
      expect(gateway.metrics.resumedTotal - resumed).toBe(1);
    } finally {
      await relay.close();
    }
  }, 60_000);

  it('a gateway that never answered the heartbeat request is not checked: a quiet session lives on', async () => {
    // An older gateway: it opens the session, echoes no heartbeatMs, sends no beats.
    const older = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise<void>((resolve) => older.once('listening', () => resolve()));
    const asked: unknown[] = [];
    older.on('connection', (socket) =>
      socket.once('message', (raw) => {
        asked.push(JSON.parse(String(raw)));
        socket.send(JSON.stringify({ type: 'opened', sessionId: 'old', maxMessageSize: 1 << 20 }));
        // Quiet for six deadlines, then the session ends well.
        setTimeout(() => socket.send(JSON.stringify({ type: 'done', seq: 1 })), 3000);
      }),
    );
    try {
      const client = new RemoteProxyClient(
        { host: '127.0.0.1', port: (older.address() as { port: number }).port },
        { token: TOKEN, WebSocket: ws, livenessTimeoutMs: 500 },
      );
      const session = await client.stream(manifest);
      expect(asked[0]).toMatchObject({ type: 'open', heartbeatMs: 125 });
      await expect(session.close()).resolves.toBeUndefined();
    } finally {
      for (const socket of older.clients) socket.terminate();
      await new Promise<void>((resolve) => older.close(() => resolve()));
    }
  }, 60_000);

  it.each([
    [-1, '-1'],
    [399, '399'],
    [Number.NaN, 'NaN'],
    ['5000', '"5000"'],
  ])(
    'livenessTimeoutMs %s is a usage error naming the option and what is valid',
    async (bad, shown) => {
      const client = new RemoteProxyClient(
        { host: '127.0.0.1', port: gateway.port },
        { token: TOKEN, WebSocket: ws, livenessTimeoutMs: bad as number },
      );
      const error = await client.stream(manifest).catch((e: unknown) => e);
      expect(error).toMatchObject({ kind: 'usage' });
      expect((error as Error).message).toBe(
        `livenessTimeoutMs ${shown}: expected 0 (no liveness check) or milliseconds from 400 to 3600000`,
      );
    },
  );
});

interface PythonOutcome {
  error: PythonError;
  received: number[];
  restarts: PythonRestart[];
}

/**
 * The Python client (real CPython, testing/python_relay_client.py) through `relay`
 * with a 1 s liveness deadline: 10 answered, the relay frozen, the rest sent into it;
 * with `restart`, frames from 21 on wait until the restart named 11..20 lost.
 */
async function runPython(relay: Relay, restart: boolean): Promise<PythonOutcome> {
  const pauses = restart ? '11,21' : '11';
  const client = startPython([
    testingScript('python_relay_client.py'),
    ...[relay.port, TOKEN, 30, 0, 3, pauses, restart ? 1 : 0, 1],
  ]);
  await client.line(/^paused 11$/m);
  relay.freeze();
  client.go();
  if (restart) {
    await client.line(/^paused 21$/m);
    client.go();
  }
  return client.result<PythonOutcome>(20_000);
}

describe('the Python client when its gateway goes silent on an open connection', () => {
  it('restart_on_loss: a RestartedEvent after liveness_timeout_s of silence, and the stream carries on', async () => {
    const relay = await Relay.start(gateway.port);
    try {
      const { error, received, restarts } = await runPython(relay, true);
      expect(error).toBeNull();
      expect(restarts).toHaveLength(1);
      expect(restarts[0]!.reason).toMatch(
        /the gateway sent nothing for \d+\.\d s \(liveness_timeout_s 1\): it is paused, hung or unreachable/,
      );
      expect(restarts[0]!.lost[0]!.frames).toEqual(Array.from({ length: 10 }, (_, k) => 11 + k));
      expect(received).toEqual([
        ...Array.from({ length: 10 }, (_, k) => 1 + k),
        ...Array.from({ length: 10 }, (_, k) => 21 + k),
      ]);
    } finally {
      await relay.close();
    }
  }, 60_000);

  it('without restart_on_loss: a WorkerLostError saying why', async () => {
    const relay = await Relay.start(gateway.port);
    try {
      const { error, received } = await runPython(relay, false);
      expect(error).toMatchObject({ type: 'WorkerLostError', kind: 'worker_lost' });
      expect(error!.message).toMatch(/sent nothing for \d+\.\d s \(liveness_timeout_s 1\)/);
      expect(received).toEqual(Array.from({ length: 10 }, (_, k) => 1 + k));
    } finally {
      await relay.close();
    }
  }, 60_000);
});
