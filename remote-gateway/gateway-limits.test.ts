/**
 * The operator's ceilings, for real: a gateway on loopback, real CPython, the TS
 * client. A manifest that asks for more than a ceiling is refused before anything
 * starts, with a 'limit' error naming the limit, the value asked and the ceiling;
 * the gateway keeps serving. Container ceilings are checked with no Docker engine
 * at all: the refusal comes before any docker command.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import calculator from '../examples/manifests/calculator.json' with { type: 'json' };
import { type Manifest, RemoteMediaError, RuntimeData } from '../web/core/internal.ts';
import { RemoteProxyClient } from '../web/runtime/remote/remote-proxy-client.ts';
import { CONTAINER_NODE } from './container-executor.ts';
import { type Gateway, type GatewayOptions, startGateway } from './gateway.ts';
import {
  checkContainerCeilings,
  checkManifestCeilings,
  containerCeilings,
  SessionAdmissions,
  sessionCeilings,
} from './gateway-limits.ts';

const TOKEN = 'limits-token-0123456789';
const OTHER = 'limits-other-0123456789';
const ws = WebSocket as unknown as typeof globalThis.WebSocket;
const ADD_ONE =
  'from remotemedia import Node\nclass AddOne(Node):\n    def process(self, data):\n        return data + 1\n';

function pythonChain(count: number): Manifest {
  const nodes = Array.from({ length: count }, (_, i) => ({
    id: `py${i}`,
    node_type: 'PythonNode',
    params: { source: ADD_ONE },
  }));
  const connections = nodes.slice(1).map((node, i) => ({ from: `py${i}`, to: node.id }));
  return { version: 'v1', metadata: { name: `python-${count}` }, nodes, connections };
}

function boxed(docker: Record<string, unknown>): Manifest {
  return {
    version: 'v1',
    metadata: { name: 'boxed' },
    nodes: [{ id: 'boxed', node_type: 'PythonNode', params: { source: ADD_ONE }, docker }],
    connections: [],
  };
}

async function withGateway<T>(
  options: Partial<GatewayOptions>,
  use: (gateway: Gateway, client: (token?: string) => RemoteProxyClient) => Promise<T>,
): Promise<T> {
  const gateway = await startGateway({ port: 0, tokens: [TOKEN, OTHER], ...options });
  const client = (token = TOKEN) =>
    new RemoteProxyClient({ host: '127.0.0.1', port: gateway.port }, { token, WebSocket: ws });
  try {
    return await use(gateway, client);
  } finally {
    await gateway.close();
  }
}

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a refusal');
    },
    (error: unknown) => error as RemoteMediaError,
  );

describe('ceilings, as functions', () => {
  const ceilings = sessionCeilings({ maxNodesPerSession: 4, maxProcessesPerSession: 2 });
  const types = new Set(['PythonNode', CONTAINER_NODE]);

  it('counts nodes and worker processes, and refuses more than the ceilings', () => {
    expect(checkManifestCeilings(pythonChain(2), ceilings, types)).toMatchObject({
      nodes: 2,
      processes: 2,
    });
    expect(() => checkManifestCeilings(pythonChain(3), ceilings, types)).toThrow(
      /worker processes .*: 3 asked, the ceiling is 2 \(maxProcessesPerSession/,
    );
    const many = {
      ...(calculator as Manifest),
      nodes: pythonChain(5).nodes.map((n) => ({ ...n, node_type: 'PassThrough' })),
    };
    expect(() => checkManifestCeilings(many, ceilings, types)).toThrow(
      expect.objectContaining({
        kind: 'limit',
        path: 'nodes',
        message: expect.stringContaining('5 asked, the ceiling is 4 (maxNodesPerSession'),
      }),
    );
    // Malformed input is left for the manifest validation to report.
    expect(checkManifestCeilings({} as Manifest, ceilings, types)).toMatchObject({ nodes: 0 });
  });

  it('refuses ceilings that are not positive integers', () => {
    expect(() => sessionCeilings({ maxSessions: 0 })).toThrow(
      /maxSessions must be a positive integer/,
    );
    expect(() => sessionCeilings({ maxSessionsPerToken: 1.5 })).toThrow(/maxSessionsPerToken/);
  });

  it('container images, memory and CPUs: a node may ask for less, never more', () => {
    const limits = containerCeilings({ maxMemoryMb: 1024, maxCpuCores: 2 }, 'img:1', {
      memoryMb: 512,
      cpuCores: 1,
    });
    expect(limits.allowedImages).toEqual(['img:1']);
    expect(() =>
      checkContainerCeilings(
        'n',
        { resource_limits: { memory_mb: 1024, cpu_cores: 0.5 } },
        limits,
        'img:1',
      ),
    ).not.toThrow();
    const memory = (() => {
      try {
        checkContainerCeilings('n', { resource_limits: { memory_mb: 200000 } }, limits, 'img:1');
      } catch (error) {
        return error as RemoteMediaError;
      }
    })();
    expect(memory).toMatchObject({
      kind: 'limit',
      nodeId: 'n',
      path: "node 'n'.docker.resource_limits.memory_mb",
    });
    expect(memory?.message).toContain('200000 asked, the ceiling is 1024 (maxMemoryMb');
    expect(() =>
      checkContainerCeilings('n', { resource_limits: { cpu_cores: 64 } }, limits, 'img:1'),
    ).toThrow(/64 asked, the ceiling is 2 \(maxCpuCores/);
    expect(() => checkContainerCeilings('n', { image: 'evil:latest' }, limits, 'img:1')).toThrow(
      /"evil:latest" asked, the ceiling is one of "img:1" \(allowedImages/,
    );
    // The defaults must fit under the ceilings, or the gateway does not start.
    expect(() =>
      containerCeilings({ maxMemoryMb: 256 }, 'img:1', { memoryMb: 512, cpuCores: 1 }),
    ).toThrow(/default container limits .* are over the ceilings/);
  });

  it('sessions in total, per token and per address; a release is counted once', () => {
    const admissions = new SessionAdmissions(
      sessionCeilings({ maxSessions: 3, maxSessionsPerToken: 2 }),
      2,
    );
    const a1 = admissions.admit('a', '10.0.0.1');
    admissions.admit('a', '10.0.0.2');
    expect(() => admissions.admit('a', '10.0.0.3')).toThrow(
      /3 asked, the ceiling is 2 \(maxSessionsPerToken/,
    );
    admissions.admit('b', '10.0.0.1');
    expect(() => admissions.admit('c', '10.0.0.9')).toThrow(
      /4 asked, the ceiling is 3 \(maxSessions,/,
    );
    a1();
    a1();
    expect(admissions.active).toBe(2);
    expect(() => admissions.admit('c', '10.0.0.1')).not.toThrow();
    expect(() => admissions.admit('d', '10.0.0.1')).toThrow(/maxSessions/);
  });
});

describe('ceilings at the gateway', () => {
  let gateway: Gateway;
  let client: RemoteProxyClient;
  beforeAll(async () => {
    gateway = await startGateway({ port: 0, tokens: [TOKEN], maxMessageSize: 4 << 20 });
    client = new RemoteProxyClient(
      { host: '127.0.0.1', port: gateway.port, max_message_size: 4 << 20 },
      { token: TOKEN, WebSocket: ws },
    );
  });
  afterAll(() => gateway?.close());

  it('a session of 150 Python nodes is refused before any process starts; the gateway keeps serving', async () => {
    const rssBefore = process.memoryUsage().rss;
    const processesBefore = gateway.python.running.length;
    const error = await refusal(client.execute(pythonChain(150), RuntimeData.json(1)));
    expect(error).toBeInstanceOf(RemoteMediaError);
    expect(error).toMatchObject({ kind: 'limit', path: 'nodes' });
    expect(error.message).toContain('150 asked, the ceiling is 16 (maxProcessesPerSession');
    // Nothing was started for it: only the pool's spares run.
    expect(gateway.python.running.length).toBe(processesBefore);
    for (let i = 0; i < 20; i++) {
      await refusal(client.execute(pythonChain(150), RuntimeData.json(1)));
    }
    expect(gateway.python.running.length).toBe(processesBefore);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(64 << 20);
    // Under the ceiling, a chain of Python nodes runs.
    expect(await client.execute(pythonChain(3), RuntimeData.json(1))).toEqual(RuntimeData.json(4));
    expect(await client.execute(calculator as Manifest, RuntimeData.json(1))).toEqual(
      RuntimeData.json(6),
    );
  });

  it('more nodes than maxNodesPerSession are refused', async () => {
    const wide: Manifest = {
      version: 'v1',
      metadata: { name: 'wide' },
      nodes: Array.from({ length: 1025 }, (_, i) => ({
        id: `p${i}`,
        node_type: 'PassThrough',
        params: {},
      })),
      connections: [],
    };
    const error = await refusal(client.execute(wide, RuntimeData.json(1)));
    expect(error).toMatchObject({ kind: 'limit' });
    expect(error.message).toContain('1025 asked, the ceiling is 1024 (maxNodesPerSession');
  });
});

describe('ceilings on what runs at once', () => {
  it('CPython processes in the whole gateway: a session that would go over is refused, and runs once others end', async () => {
    await withGateway({ maxPythonProcesses: 3, python: { spares: 0 } }, async (gateway, client) => {
      const holding = await client().stream(pythonChain(2));
      await holding.sendInput(RuntimeData.json(1));
      expect((await holding.recvOutput())?.data).toEqual(RuntimeData.json(3));
      expect(gateway.python.running.length).toBe(2);
      const error = await refusal(client().execute(pythonChain(2), RuntimeData.json(1)));
      expect(error).toMatchObject({ kind: 'limit' });
      expect(error.message).toContain('2 asked, the ceiling is 1 (maxPythonProcesses');
      expect(await client().execute(pythonChain(1), RuntimeData.json(1))).toEqual(
        RuntimeData.json(2),
      );
      await holding.close();
      expect(await client().execute(pythonChain(2), RuntimeData.json(1))).toEqual(
        RuntimeData.json(3),
      );
    });
  });

  it('sessions in total and per token', async () => {
    await withGateway({ maxSessions: 3, maxSessionsPerToken: 2 }, async (_gateway, client) => {
      const open = [
        await client().stream(calculator as Manifest),
        await client().stream(calculator as Manifest),
      ];
      const perToken = await refusal(client().stream(calculator as Manifest));
      expect(perToken).toMatchObject({ kind: 'limit' });
      expect(perToken.message).toContain('3 asked, the ceiling is 2 (maxSessionsPerToken');
      open.push(await client(OTHER).stream(calculator as Manifest));
      const total = await refusal(client(OTHER).stream(calculator as Manifest));
      expect(total.message).toContain('4 asked, the ceiling is 3 (maxSessions,');
      await open[0]!.close();
      // A session that ended gives its place back.
      const next = await client().stream(calculator as Manifest);
      await next.sendInput(RuntimeData.json(1));
      expect((await next.recvOutput())?.data).toEqual(RuntimeData.json(6));
      for (const session of [...open.slice(1), next]) await session.close();
    });
  });

  it('container memory, CPUs and images over the ceilings are refused with no engine running', async () => {
    await withGateway(
      { containers: { docker: '/nonexistent/docker', maxMemoryMb: 1024, maxCpuCores: 1 } },
      async (_gateway, client) => {
        const memory = await refusal(
          client().execute(boxed({ resource_limits: { memory_mb: 200000 } }), RuntimeData.json(1)),
        );
        expect(memory).toMatchObject({
          kind: 'limit',
          nodeId: 'boxed',
          path: 'nodes[0].docker.resource_limits.memory_mb',
        });
        expect(memory.message).toContain('200000 asked, the ceiling is 1024 (maxMemoryMb');
        const cpus = await refusal(
          client().execute(boxed({ resource_limits: { cpu_cores: 8 } }), RuntimeData.json(1)),
        );
        expect(cpus.message).toContain('8 asked, the ceiling is 1 (maxCpuCores');
        const image = await refusal(
          client().execute(boxed({ image: 'alpine:latest' }), RuntimeData.json(1)),
        );
        expect(image).toMatchObject({ kind: 'limit', path: 'nodes[0].docker.image' });
        expect(image.message).toContain(
          '"alpine:latest" asked, the ceiling is one of "remotemedia-python:latest"',
        );
        // Under the ceilings the request goes on to docker, which is not there: a different error.
        const allowed = await refusal(
          client().execute(boxed({ resource_limits: { memory_mb: 512 } }), RuntimeData.json(1)),
        );
        expect(allowed.kind).not.toBe('limit');
        expect(allowed.message).toMatch(/docker|Docker/);
      },
    );
  });
});
