import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import calculator from '../examples/manifests/calculator.json' with { type: 'json' };
import { GATEWAY_PROTOCOL_VERSION, type Manifest, RuntimeData } from '../web/core/internal.ts';
import { RemoteProxyClient } from '../web/runtime/remote/remote-proxy-client.ts';
import { type Gateway, startGateway } from './gateway.ts';
import { selfSignedCertificate } from './testing/self-signed.ts';

const TOKEN = 'test-token-0123456789';
const SOURCE = `
from remotemedia import Node
class AddOne(Node):
    def process(self, data):
        if data == 13:
            raise ValueError("13 is not welcome")
        return data + 1
`;
const python: Manifest = {
  version: 'v1',
  metadata: { name: 'cpython' },
  nodes: [{ id: 'py', node_type: 'PythonNode', params: { source: SOURCE } }],
  connections: [],
};

let gateway: Gateway;
let client: RemoteProxyClient;

beforeAll(async () => {
  gateway = await startGateway({ port: 0, tokens: [TOKEN], adminPort: 0 });
  client = new RemoteProxyClient(
    { host: '127.0.0.1', port: gateway.port },
    { token: TOKEN, WebSocket: WebSocket as unknown as typeof globalThis.WebSocket },
  );
});
afterAll(() => gateway?.close());

/** A raw client, for what RemoteProxyClient would never send. */
function raw(headers: Record<string, string> = {}): Promise<WebSocket> {
  const ws = new WebSocket(gateway.url, { headers });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

function nextMessage(ws: WebSocket): Promise<{ data: string; closed?: number }> {
  return new Promise((resolve) => {
    ws.once('message', (data) => resolve({ data: data.toString() }));
    ws.once('close', (code) => resolve({ data: '', closed: code }));
  });
}

describe('the gateway over a real WebSocket on loopback', () => {
  it("runs the original's 3-node pipeline: [1, 2, 3] gives [6, 7, 8]", async () => {
    const outputs = await client.run(
      calculator as Manifest,
      [1, 2, 3].map((v) => RuntimeData.json(v)),
    );
    expect(outputs.map((o) => o.data)).toEqual([6, 7, 8].map((v) => RuntimeData.json(v)));
    expect(outputs.every((o) => o.nodeId === 'pass2')).toBe(true);
  });

  it('runs a Python node in CPython, with its traceback on failure', async () => {
    expect(await client.execute(python, RuntimeData.json(41))).toEqual(RuntimeData.json(42));
    const error = await client.execute(python, RuntimeData.json(13)).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'node_failed', nodeId: 'py' });
    expect(String((error as Error).message)).toContain('ValueError: 13 is not welcome');
  });

  it('a killed CPython process fails its session clearly, is replaced, and the next session works', async () => {
    const session = await client.stream(python);
    await session.sendInput(RuntimeData.json(1));
    expect((await session.recvOutput())?.data).toEqual(RuntimeData.json(2));
    const victim = gateway.python.running.find((p) => p.nodeId === 'py')!;
    expect(victim).toBeDefined();
    process.kill(victim.pid!, 'SIGKILL');
    const error = await session.recvOutput().catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'worker_lost' });
    expect(String((error as Error).message)).toMatch(
      /Python process for node 'py' exited \(signal SIGKILL\)/,
    );
    expect(await client.execute(python, RuntimeData.json(5))).toEqual(RuntimeData.json(6));
  });

  it('large frames travel in parts and arrive whole', async () => {
    const small = new RemoteProxyClient(
      { host: '127.0.0.1', port: gateway.port, max_message_size: 4096 },
      { token: TOKEN, WebSocket: WebSocket as unknown as typeof globalThis.WebSocket },
    );
    const samples = Float32Array.from({ length: 48000 }, (_, i) => Math.sin(i));
    const passthrough = {
      ...(calculator as Manifest),
      nodes: [{ id: 'p', node_type: 'PassThrough', params: {} }],
      connections: [],
    };
    expect(await small.execute(passthrough, RuntimeData.audio(samples, 48000))).toEqual(
      RuntimeData.audio(samples, 48000),
    );
  });

  it("a session's per-node metrics come back from the gateway while it runs", async () => {
    const session = await client.stream(calculator as Manifest);
    for (const v of [1, 2, 3]) {
      await session.sendInput(RuntimeData.json(v));
      await session.recvOutput();
    }
    const nodes = await session.metrics();
    expect(nodes.map((n) => n.nodeId).sort()).toEqual(['calc', 'pass1', 'pass2']);
    expect(nodes.find((n) => n.nodeId === 'calc')).toMatchObject({ itemsIn: 3, itemsOut: 3 });
    await session.close();
    expect(await session.metrics()).toEqual([]); // ended: nothing to ask
  });

  it('answers /healthz on its port, and /metrics only on the admin port', async () => {
    const base = gateway.url.replace('ws://', 'http://').replace('/v1', '');
    expect(await (await fetch(`${base}/healthz`)).json()).toMatchObject({
      ok: true,
      protocol: GATEWAY_PROTOCOL_VERSION,
    });
    expect((await fetch(`${base}/metrics`)).status).toBe(404);
    expect((await fetch(`${base}/sessions`)).status).toBe(404);
    const metrics = await (await fetch(`${gateway.adminUrl}/metrics`)).text();
    expect(metrics).toMatch(/remotemedia_sessions_total \d+/);
    expect(metrics).toContain('remotemedia_frames_total{direction="in"}');
  });
});

describe('gateway security', () => {
  it('refuses a client without a valid token', async () => {
    const ws = await raw();
    ws.send(
      JSON.stringify({
        type: 'open',
        version: GATEWAY_PROTOCOL_VERSION,
        token: 'wrong-token',
        island: {},
      }),
    );
    const reply = await nextMessage(ws);
    expect(JSON.parse(reply.data).error).toMatchObject({ kind: 'unauthorized' });
  });

  it('error kinds cross to the TS client unchanged: unauthorized, limit; an unreachable gateway is a clear usage error', async () => {
    const wrong = new RemoteProxyClient(
      { host: '127.0.0.1', port: gateway.port },
      { token: 'wrong-token-0123', WebSocket: WebSocket as unknown as typeof globalThis.WebSocket },
    );
    await expect(wrong.execute(calculator as Manifest, RuntimeData.json(1))).rejects.toMatchObject({
      kind: 'unauthorized',
    });
    const wide: Manifest = {
      ...(calculator as Manifest),
      nodes: Array.from({ length: 17 }, (_, i) => ({
        id: `py${i}`,
        node_type: 'PythonNode',
        params: { source: SOURCE },
      })),
      connections: [],
    };
    await expect(client.execute(wide, RuntimeData.json(1))).rejects.toMatchObject({
      kind: 'limit',
      message: expect.stringContaining('(maxProcessesPerSession'),
    });
    const nowhere = new RemoteProxyClient(
      { host: '127.0.0.1', port: 9 },
      { token: TOKEN, WebSocket: WebSocket as unknown as typeof globalThis.WebSocket },
    );
    await expect(
      nowhere.execute(calculator as Manifest, RuntimeData.json(1)),
    ).rejects.toMatchObject({
      kind: 'usage',
      message: expect.stringContaining('cannot reach the gateway at ws://127.0.0.1:9/v1'),
    });
  });

  it('refuses a browser origin it was not told to allow', async () => {
    await expect(raw({ Origin: 'https://evil.example' })).rejects.toThrow('HTTP 403');
  });

  it('refuses an oversized message and a wrong protocol version', async () => {
    const ws = await raw();
    const closed = nextMessage(ws);
    ws.send(new Uint8Array((1 << 20) + 10));
    expect((await closed).closed).toBe(1009);
    const old = await raw();
    old.send(JSON.stringify({ type: 'open', version: 0, token: TOKEN, island: {} }));
    expect(JSON.parse((await nextMessage(old)).data).error).toMatchObject({
      kind: 'protocol',
      message: expect.stringContaining('protocol version 0'),
    });
  });

  it('survives 100k malformed messages and keeps serving', async () => {
    const ws = await raw();
    ws.send(
      JSON.stringify({
        type: 'open',
        version: GATEWAY_PROTOCOL_VERSION,
        token: TOKEN,
        island: {
          manifest: calculator,
          inputs: [{ sources: ['pass1'] }],
          outputs: [{ sink: 'pass2' }],
        },
      }),
    );
    expect(JSON.parse((await nextMessage(ws)).data).type).toBe('opened');
    let closedWith: number | undefined;
    ws.on('close', (code) => {
      closedWith = code;
    });
    // Random bytes: bad headers, bad ports, truncated and corrupt frames.
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    for (let i = 0; i < 100_000 && closedWith === undefined; i++) {
      const message = Uint8Array.from(
        { length: 1 + Math.floor(random() * 64) },
        () => random() * 256,
      );
      if (ws.readyState === ws.OPEN) ws.send(message);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    // The session was ended with a typed error (the first bad frame), not a crash.
    expect(closedWith === undefined || closedWith >= 1000).toBe(true);
    expect(await client.execute(calculator as Manifest, RuntimeData.json(1))).toEqual(
      RuntimeData.json(6),
    );
    // And connections that each send garbage as their first message are all refused.
    for (let i = 0; i < 50; i++) {
      const bad = await raw();
      const reply = nextMessage(bad);
      bad.send(Uint8Array.from({ length: 20 }, () => random() * 256));
      expect((await reply).data + String((await reply).closed ?? '')).not.toBe('');
    }
    const base = gateway.url.replace('ws://', 'http://').replace('/v1', '');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  }, 60_000);
});

describe('gateway with compression', () => {
  it('negotiates permessage-deflate and still gives the same results', async () => {
    const deflating = await startGateway({ port: 0, tokens: [TOKEN], compression: true });
    try {
      const probe = new WebSocket(deflating.url);
      await new Promise((resolve) => probe.once('open', resolve));
      expect(probe.extensions).toContain('permessage-deflate');
      probe.terminate();
      const outputs = await new RemoteProxyClient(
        { host: '127.0.0.1', port: deflating.port },
        { token: TOKEN, WebSocket: WebSocket as unknown as typeof globalThis.WebSocket },
      ).run(
        calculator as Manifest,
        [1, 2, 3].map((v) => RuntimeData.json(v)),
      );
      expect(outputs.map((o) => o.data)).toEqual([6, 7, 8].map((v) => RuntimeData.json(v)));
    } finally {
      await deflating.close();
    }
  });
});

describe('gateway over TLS', () => {
  it('ssl_enabled reaches a gateway with a self-signed certificate made here', async () => {
    const { cert, key } = selfSignedCertificate();
    const secure = await startGateway({
      port: 0,
      tokens: [TOKEN],
      tls: { cert, key },
    });
    try {
      expect(secure.url).toMatch(/^wss:\/\//);
      // The client trusts exactly this certificate, as a browser would after import.
      class TrustingWebSocket extends WebSocket {
        constructor(url: string) {
          super(url, { ca: cert });
        }
      }
      const tls = new RemoteProxyClient(
        { host: '127.0.0.1', port: secure.port, ssl_enabled: true },
        { token: TOKEN, WebSocket: TrustingWebSocket as unknown as typeof globalThis.WebSocket },
      );
      expect(await tls.execute(calculator as Manifest, RuntimeData.json(1))).toEqual(
        RuntimeData.json(6),
      );
      // Plain ws:// to the TLS port does not get a session.
      const plain = new RemoteProxyClient(
        { host: '127.0.0.1', port: secure.port },
        { token: TOKEN, WebSocket: WebSocket as unknown as typeof globalThis.WebSocket },
      );
      await expect(
        plain.execute(calculator as Manifest, RuntimeData.json(1)),
      ).rejects.toMatchObject({
        // No gateway answered (it speaks TLS): nothing was running to be lost.
        kind: 'usage',
      });
    } finally {
      await secure.close();
    }
  });
});

describe('gateway faults', () => {
  it('a node over its memory limit fails its session clearly; the gateway keeps serving', async () => {
    const tight = await startGateway({
      port: 0,
      tokens: [TOKEN],
      python: { memoryLimitBytes: 256 << 20 },
    });
    try {
      const hungry: Manifest = {
        ...python,
        nodes: [
          {
            id: 'hungry',
            node_type: 'PythonNode',
            params: {
              source:
                'from remotemedia import Node\nclass Hungry(Node):\n    def process(self, data):\n        return len(bytearray(512 * 1024 * 1024))\n',
            },
          },
        ],
      };
      const tightClient = new RemoteProxyClient(
        { host: '127.0.0.1', port: tight.port },
        { token: TOKEN, WebSocket: WebSocket as unknown as typeof globalThis.WebSocket },
      );
      const error = await tightClient.execute(hungry, RuntimeData.json(1)).catch((e: unknown) => e);
      expect(error).toMatchObject({ kind: 'node_failed', nodeId: 'hungry' });
      expect(String((error as Error).message)).toContain('MemoryError');
      expect(await tightClient.execute(python, RuntimeData.json(1))).toEqual(RuntimeData.json(2));
    } finally {
      await tight.close();
    }
  });

  it('a gateway restart ends the running session with a clear error; then a new session works', async () => {
    const first = await startGateway({ port: 0, tokens: [TOKEN] });
    const port = first.port;
    const restartClient = new RemoteProxyClient(
      { host: '127.0.0.1', port },
      { token: TOKEN, WebSocket: WebSocket as unknown as typeof globalThis.WebSocket },
    );
    const session = await restartClient.stream(calculator as Manifest);
    await session.sendInput(RuntimeData.json(1));
    expect((await session.recvOutput())?.data).toEqual(RuntimeData.json(6));
    await first.close();
    const error = await session.recvOutput().catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'worker_lost' });
    expect(String((error as Error).message)).toContain('connection closed');
    const second = await startGateway({ port, tokens: [TOKEN] });
    try {
      expect(await restartClient.execute(calculator as Manifest, RuntimeData.json(2))).toEqual(
        RuntimeData.json(7),
      );
    } finally {
      await second.close();
    }
  });
});
