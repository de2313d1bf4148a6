/**
 * Observability without leaks: /metrics and /sessions live on the admin listener;
 * the public port answers /healthz with aggregates only. A scrape is made of
 * aggregates kept as things happen, so it costs the same with one 10k-node session
 * as with none: the same series, no node or session ids, no walk over nodes.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { GATEWAY_PROTOCOL_VERSION, type Manifest, RuntimeData } from '../web/core/internal.ts';
import { RemoteProxyClient } from '../web/runtime/remote/remote-proxy-client.ts';
import { type Gateway, startGateway } from './gateway.ts';

const TOKEN = 'metrics-token-0123456789';
const NODES = 10_000;

/** A chain of PassThrough nodes n0 -> n1 -> ... */
function chain(count: number): Manifest {
  const nodes = Array.from({ length: count }, (_, i) => ({
    id: `n${i}`,
    node_type: 'PassThrough',
    params: {},
  }));
  const connections = nodes.slice(1).map((node, i) => ({ from: `n${i}`, to: node.id }));
  return { version: 'v1', metadata: { name: 'wide' }, nodes, connections };
}

/** The series a scrape holds (names and labels, without values). */
function series(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => line.slice(0, line.lastIndexOf(' ')));
}

let gateway: Gateway;
let client: RemoteProxyClient;
let publicBase: string;

beforeAll(async () => {
  gateway = await startGateway({
    port: 0,
    tokens: [TOKEN],
    adminPort: 0,
    maxNodesPerSession: NODES,
    maxMessageSize: 4 << 20,
  });
  publicBase = gateway.url.replace('ws://', 'http://').replace('/v1', '');
  client = new RemoteProxyClient(
    { host: '127.0.0.1', port: gateway.port, max_message_size: 4 << 20 },
    { token: TOKEN, WebSocket: WebSocket as unknown as typeof globalThis.WebSocket },
  );
});
afterAll(() => gateway?.close());

describe('metrics and listings', () => {
  it('a scrape with a 10k-node session has the same bounded series as with none, and names no node', async () => {
    const scrape = async () => (await fetch(`${gateway.adminUrl}/metrics`)).text();
    const idle = await scrape();
    const session = await client.stream(chain(NODES));
    await session.sendInput(RuntimeData.json(1));
    expect((await session.recvOutput())?.data).toEqual(RuntimeData.json(1));

    const busy = await scrape();
    // Scraping again and again changes nothing either (render: ~60 µs, whatever runs).
    const rssBefore = process.memoryUsage().rss;
    for (let i = 0; i < 200; i++) expect(series(await scrape())).toEqual(series(busy));
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(32 << 20);
    expect(series(busy)).toEqual(series(idle));
    expect(busy.length).toBeLessThan(8192);
    expect(busy).not.toMatch(/n9999|n42\b|session-/);
    expect(busy).toContain(`remotemedia_nodes_active ${NODES}`);
    expect(busy).toContain('remotemedia_sessions_active 1');

    // The operator's listing names the session and its size, not its nodes.
    const listing = (await (await fetch(`${gateway.adminUrl}/sessions`)).json()) as {
      sessions: { sessionId: string; nodes: number; token: string }[];
    };
    expect(listing.sessions).toHaveLength(1);
    expect(listing.sessions[0]).toMatchObject({ nodes: NODES });
    expect(listing.sessions[0]!.sessionId).toMatch(/^session-[0-9a-f-]{36}$/);
    expect(listing.sessions[0]!.token).not.toContain(TOKEN);

    // The public port: aggregates only; no metrics, no listing.
    expect((await fetch(`${publicBase}/metrics`)).status).toBe(404);
    expect((await fetch(`${publicBase}/sessions`)).status).toBe(404);
    const health = await (await fetch(`${publicBase}/healthz`)).json();
    expect(health).toEqual({ ok: true, protocol: GATEWAY_PROTOCOL_VERSION, sessions: 1 });

    await session.close();
    // Ended on the gateway's side a moment after the client's close: wait for it.
    while (!(await scrape()).includes('remotemedia_nodes_active 0')) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }, 120_000);

  it('refusals are counted by reason, with labels only from a fixed set', async () => {
    const socket = new WebSocket(gateway.url);
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(
      JSON.stringify({
        type: 'open',
        version: GATEWAY_PROTOCOL_VERSION,
        token: 'attacker-chosen-label"}',
        island: {},
      }),
    );
    await new Promise((resolve) => socket.once('close', resolve));
    const text = await (await fetch(`${gateway.adminUrl}/metrics`)).text();
    expect(text).toMatch(/remotemedia_refusals_total\{reason="unauthorized"\} [1-9]/);
    expect(text).toMatch(/remotemedia_auth_failures_total [1-9]/);
    expect(text).not.toContain('attacker-chosen-label');
  });

  it('session ids are random, not a sequence', async () => {
    const sessions = await Promise.all([1, 2, 3].map(() => client.stream(chain(1))));
    const listing = (await (await fetch(`${gateway.adminUrl}/sessions`)).json()) as {
      sessions: { sessionId: string }[];
    };
    const ids = listing.sessions.map((s) => s.sessionId);
    expect(new Set(ids).size).toBe(3);
    for (const session of sessions) await session.close();
    for (const id of ids) expect(id).toMatch(/^session-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-/);
  });
});

describe('a gateway in a fleet', () => {
  it("its name, sessions, capacity and draining are in its metrics, so one Prometheus tells a fleet's gateways apart", async () => {
    const named = await startGateway({
      port: 0,
      tokens: [TOKEN],
      adminPort: 0,
      name: 'g7',
      maxSessions: 5,
    });
    try {
      const scrape = async () => (await fetch(`${named.adminUrl}/metrics`)).text();
      const namedClient = new RemoteProxyClient(
        { host: '127.0.0.1', port: named.port },
        { token: TOKEN, WebSocket: WebSocket as unknown as typeof globalThis.WebSocket },
      );
      const sessions = await Promise.all([1, 2].map(() => namedClient.stream(chain(1))));
      const busy = await scrape();
      expect(busy).toContain('remotemedia_gateway_info{name="g7"} 1');
      expect(busy).toContain('remotemedia_sessions_active 2');
      expect(busy).toContain('remotemedia_capacity{resource="sessions"} 5');
      expect(busy).toContain('remotemedia_draining 0');
      // SIGTERM's drain: the scrape says so while the sessions finish.
      const drained = named.drain(30_000);
      while (!(await scrape()).includes('remotemedia_draining 1')) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      for (const session of sessions) await session.close();
      await drained;
    } finally {
      await named.close();
    }
    // A gateway without a name says so with an empty one (the series is always there).
    expect(await (await fetch(`${gateway.adminUrl}/metrics`)).text()).toContain(
      'remotemedia_gateway_info{name=""} 1',
    );
  });
});

describe('structured logs', () => {
  it('a logger passed in gets JSON lines of connections refused, sessions and worker deaths, never a token', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line));
        done();
      },
    });
    const logged = await startGateway({
      port: 0,
      tokens: [TOKEN],
      logger: pino({ level: 'info' }, sink),
    });
    try {
      const options = {
        token: TOKEN,
        WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
      };
      const ok = new RemoteProxyClient({ host: '127.0.0.1', port: logged.port }, options);
      const bad = new RemoteProxyClient(
        { host: '127.0.0.1', port: logged.port },
        { ...options, token: 'a-wrong-token-0123' },
      );
      await bad.execute(chain(1), RuntimeData.json(1)).catch(() => {});
      expect(await ok.execute(chain(2), RuntimeData.json(1))).toEqual(RuntimeData.json(1));
      const python: Manifest = {
        version: 'v1',
        metadata: { name: 'py' },
        nodes: [
          {
            id: 'py',
            node_type: 'PythonNode',
            params: {
              source:
                'from remotemedia import Node\nclass Echo(Node):\n    def process(self, data):\n        return data\n',
            },
          },
        ],
        connections: [],
      };
      const session = await ok.stream(python);
      await session.sendInput(RuntimeData.json(1));
      await session.recvOutput();
      process.kill(logged.python.running.find((p) => p.nodeId === 'py')!.pid!, 'SIGKILL');
      await session.recvOutput().catch(() => {});
      while (!lines.some((l) => l.event === 'worker_lost')) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const events = lines.map((l) => l.event);
      expect(events).toContain('listening');
      expect(lines.find((l) => l.event === 'refused')).toMatchObject({
        reason: 'unauthorized',
        address: '127.0.0.1',
      });
      expect(lines.find((l) => l.event === 'session_opened')).toMatchObject({ nodes: 2 });
      expect(events).toContain('session_ended');
      expect(lines.find((l) => l.event === 'worker_lost')).toMatchObject({
        nodeId: 'py',
        level: 40,
      });
      expect(logged.metrics.workersLost).toBe(1);
      const text = JSON.stringify(lines);
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain('a-wrong-token-0123');
    } finally {
      await logged.close();
    }
  });
});
