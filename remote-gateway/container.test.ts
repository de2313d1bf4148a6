/**
 * The container executor for real: a Docker engine on this machine, an image built
 * here from Debian's python3 (no registry), Python nodes in containers with no
 * network behind a real gateway on loopback, from a warm pool (container-pool.ts):
 * sessions after the first take a pooled container, nothing of one session reaches
 * the next, and a container killed under a session is replaced.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type JsonData, type Manifest, RuntimeData } from '../web/core/internal.ts';
import { RemoteProxyClient } from '../web/runtime/remote/remote-proxy-client.ts';
import { type DockerEngine, dockerEngine } from '../tests/node/docker-engine.ts';
import { buildPythonImage } from './container-image.ts';
import { type Gateway, startGateway } from './gateway.ts';

const TOKEN = 'container-token-0123456789';
const IMAGE = 'remotemedia-python:test';
const SOURCE = `
import os, socket
from remotemedia import Node

class Probe(Node):
    def process(self, data):
        if data == "allocate":
            hog = bytearray(256 * 1024 * 1024)  # over the 64 MiB limit
            return len(hog)
        try:
            socket.create_connection(("1.1.1.1", 80), timeout=2)
            network = "reachable"
        except OSError as error:
            network = type(error).__name__ + ": " + str(error)
        return {"echo": data, "uid": os.getuid(), "network": network}
`;

/** Reports where it runs and what an earlier session may have left there. */
const WITNESS = `
import os, socket, subprocess, sys
from remotemedia import Node

class Witness(Node):
    def process(self, data):
        if data == "leave":
            with open("/tmp/left-by-an-earlier-session", "w") as f:
                f.write("secret")
            subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        others = []
        for pid in os.listdir("/proc"):
            if pid.isdigit() and int(pid) not in (1, os.getpid()):
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as f:
                        others.append(f.read().replace(b"\\0", b" ").decode().strip())
                except OSError:
                    pass
        return {
            "host": socket.gethostname(),
            "left": os.path.exists("/tmp/left-by-an-earlier-session"),
            "others": [o for o in others if o],
        }
`;

interface Witnessed {
  host: string;
  left: boolean;
  others: string[];
}

const witness = (docker: Record<string, unknown>): Manifest => ({
  version: 'v1',
  metadata: { name: 'witness' },
  nodes: [{ id: 'witness', node_type: 'PythonNode', params: { source: WITNESS }, docker }],
  connections: [],
});

function containerPipeline(docker: Record<string, unknown>): Manifest {
  return {
    version: 'v1',
    metadata: { name: 'container' },
    nodes: [{ id: 'boxed', node_type: 'PythonNode', params: { source: SOURCE }, docker }],
    connections: [],
  };
}

const engine: DockerEngine = await dockerEngine();
const unavailable = 'unavailable' in engine ? engine.unavailable : undefined;
let gateway: Gateway;
let client: RemoteProxyClient;

const options = { token: TOKEN, WebSocket: WebSocket as unknown as typeof globalThis.WebSocket };

describe.skipIf(unavailable)(`containers (skipped only when: ${unavailable})`, () => {
  beforeAll(async () => {
    await buildPythonImage({ tag: IMAGE });
    gateway = await startGateway({
      port: 0,
      tokens: [TOKEN],
      adminPort: 0,
      // The absent image is allowed so that the test can see the gateway say it is missing.
      containers: { defaultImage: IMAGE, allowedImages: [IMAGE, 'remotemedia-python:absent'] },
    });
    client = new RemoteProxyClient({ host: '127.0.0.1', port: gateway.port }, options);
  }, 120_000);
  afterAll(async () => {
    await gateway?.close();
    if ('stop' in engine) await engine.stop();
  });

  it('runs a Python node in a locally built image, as nobody, with no network', async () => {
    const out = await client.execute(
      containerPipeline({ resource_limits: { memory_mb: 64, cpu_cores: 0.5 } }),
      RuntimeData.json('hello'),
    );
    expect(out.kind).toBe('json');
    const reply = (out as JsonData).value as { echo: string; uid: number; network: string };
    expect(reply.echo).toBe('hello');
    expect(reply.uid).toBe(65534);
    expect(reply.network).toMatch(/Network is unreachable/);
    expect(gateway.containers!.containers.size).toBe(0); // ended with its session
  });

  it('a container node writing five protocol-like bytes to stdout cannot reach the protocol', async () => {
    // docker run -i carries the protocol on stdin/stdout: the runner moved it to
    // private fds before the node ran, so these land in the container's stderr.
    const writer: Manifest = {
      version: 'v1',
      metadata: { name: 'stdout-writer' },
      nodes: [
        {
          id: 'writer',
          node_type: 'PythonNode',
          params: {
            source:
              'import os\nfrom remotemedia import Node\nclass W(Node):\n    def process(self, data):\n        os.write(1, b"\\x01\\x00\\x00\\x00\\x00")\n        print("\\x01\\x00\\x00\\x00\\x00", end="", flush=True)\n        return data + 1\n',
          },
          docker: { resource_limits: { memory_mb: 64 } },
        },
      ],
      connections: [],
    };
    expect(await client.execute(writer, RuntimeData.json(41))).toEqual(RuntimeData.json(42));
    const again = await client.execute(containerPipeline({}), RuntimeData.json('after'));
    expect(((again as JsonData).value as { echo: string }).echo).toBe('after');
  });

  it('over its memory limit the session ends clearly, and the gateway keeps serving', async () => {
    const manifest = containerPipeline({ resource_limits: { memory_mb: 64 } });
    const error = await client.execute(manifest, RuntimeData.json('allocate')).catch((e) => e);
    expect(error).toMatchObject({ kind: 'worker_lost', nodeId: 'boxed' });
    expect(String(error.message)).toContain('over its memory limit of 64 MiB');
    const again = await client.execute(manifest, RuntimeData.json('next'));
    expect(((again as JsonData).value as { echo: string }).echo).toBe('next');
  });

  it('checks the Python version and packages a node asks for against the image', async () => {
    const version = await client
      .execute(containerPipeline({ python_version: '3.7' }), RuntimeData.json(1))
      .catch((e) => e);
    expect(String(version.message)).toMatch(
      /python_version "3.7" is not what image .* holds \(3\.\d+\)/,
    );
    const packages = await client
      .execute(containerPipeline({ python_packages: ['json', 'torch>=2.0'] }), RuntimeData.json(1))
      .catch((e) => e);
    expect(String(packages.message)).toContain('docker.python_packages: torch not importable');
    const image = await client
      .execute(containerPipeline({ image: 'remotemedia-python:absent' }), RuntimeData.json(1))
      .catch((e) => e);
    expect(String(image.message)).toContain('npm run gateway:image');
  });

  it('10 sessions: each after the first takes a warm pooled container (same container, reset between)', async () => {
    const docker = { resource_limits: { memory_mb: 96, cpu_cores: 0.5 } };
    const resources = { image: IMAGE, memoryMb: 96, cpus: 0.5 };
    const pool = gateway.containers!.pool;
    const before = { ...pool.stats };
    const starts: number[] = [];
    const hosts: string[] = [];
    for (let i = 0; i < 10; i++) {
      // Once the last session's container is reset and its next runner pinged (the
      // pool's state, not a time): what a session arriving at a warm pool sees.
      while (i > 0 && pool.idleIn(resources) === 0) await new Promise((r) => setTimeout(r, 20));
      const began = performance.now();
      const session = await client.stream(witness(docker));
      await session.sendInput(RuntimeData.json(i === 0 ? 'leave' : 'look'));
      const out = await session.recvOutput();
      starts.push(performance.now() - began);
      const seen = (out!.data as JsonData).value as unknown as Witnessed;
      hosts.push(seen.host);
      if (i > 0) {
        // Nothing of the earlier sessions: no file, no leftover process.
        expect(seen.left).toBe(false);
        expect(seen.others.join('\n')).not.toContain('sleep(600)');
      }
      await session.close();
    }
    // Counted by the pool, not guessed from timing: one container started, nine reused.
    expect(pool.stats.coldStarts - before.coldStarts).toBe(1);
    expect(pool.stats.warmStarts - before.warmStarts).toBe(9);
    expect(new Set(hosts).size).toBe(1);
    const scrape = await (await fetch(`${gateway.adminUrl}/metrics`)).text();
    expect(scrape).toMatch(/remotemedia_container_starts_total\{start="warm"\} [1-9]/);
    // Back to back: each session arrives while the last one's container is being
    // reset, and waits for it (still warm: no container started).
    const backToBack: number[] = [];
    for (let i = 0; i < 3; i++) {
      const began = performance.now();
      await client.execute(witness(docker), RuntimeData.json('look'));
      backToBack.push(performance.now() - began);
    }
    expect(pool.stats.coldStarts - before.coldStarts).toBe(1);
    const ms = (list: number[]) => list.map((t) => t.toFixed(0)).join(' ');
    console.log(
      `container session start to first output (ms): cold ${starts[0]!.toFixed(0)}; warm at a ready pool ${ms(starts.slice(1))}; back to back ${ms(backToBack)}`,
    );
  }, 120_000);

  it('a container killed under a session ends it clearly; it is replaced, never reused, and the next session works', async () => {
    const docker = { resource_limits: { memory_mb: 80, cpu_cores: 0.5 } };
    const pool = gateway.containers!.pool;
    const first = await client.execute(witness(docker), RuntimeData.json('look'));
    const killedHost = ((first as JsonData).value as unknown as Witnessed).host;
    const session = await client.stream(witness(docker));
    await session.sendInput(RuntimeData.json('look'));
    const seen = (await session.recvOutput())!.data as JsonData;
    expect((seen.value as unknown as Witnessed).host).toBe(killedHost); // the pooled one
    const broken = pool.stats.removedBroken;
    const warm = pool.stats.warmStarts;
    const { execFile } = await import('node:child_process');
    await new Promise((resolve) => execFile('docker', ['kill', killedHost], resolve));
    const error = await session.recvOutput().catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'worker_lost', nodeId: 'witness' });
    expect(String((error as Error).message)).toContain('the container remotemedia-pool-');
    // Removed, and a replacement started ahead: the next session starts warm in it.
    const next = await client.execute(witness(docker), RuntimeData.json('look'));
    const replacement = ((next as JsonData).value as unknown as Witnessed).host;
    expect(replacement).not.toBe(killedHost);
    expect(pool.stats.removedBroken, JSON.stringify(pool.stats)).toBe(broken + 1);
    expect(pool.stats.warmStarts).toBe(warm + 1);
  }, 120_000);

  it('a container that hangs past its deadline is removed', async () => {
    const hanging: Manifest = {
      ...containerPipeline({}),
      nodes: [
        {
          id: 'stuck',
          node_type: 'PythonNode',
          params: {
            source:
              'from remotemedia import Node\nclass S(Node):\n    def process(self, d):\n        while True: pass\n',
          },
          docker: {},
        },
      ],
    };
    const strict = await startGateway({
      port: 0,
      tokens: [TOKEN],
      containers: { defaultImage: IMAGE, callTimeoutMs: 1500 },
    });
    try {
      const running = new RemoteProxyClient({ host: '127.0.0.1', port: strict.port }, options)
        .execute(hanging, RuntimeData.json(1))
        .catch((e) => e);
      // The pooled container the node runs in, while it hangs.
      let settled = false;
      void running.finally(() => (settled = true));
      while (strict.containers!.containers.size === 0 && !settled) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const [name] = [...strict.containers!.containers.keys()];
      const error = await running;
      expect(String(error.message)).toContain('overran its 1500 ms call deadline');
      expect(await runningContainers(name!)).not.toContain(name);
      expect(strict.containers!.pool.stats.removedBroken).toBe(1);
    } finally {
      await strict.close();
    }
  });
});

describe('containers without an engine', () => {
  it('say clearly that no Docker engine is reachable', async () => {
    const lonely = await startGateway({
      port: 0,
      tokens: [TOKEN],
      containers: { host: 'unix:///tmp/remotemedia-no-docker.sock' },
    });
    try {
      const error = await new RemoteProxyClient({ host: '127.0.0.1', port: lonely.port }, options)
        .execute(containerPipeline({}), RuntimeData.json(1))
        .catch((e) => e);
      expect(String(error.message)).toContain('no Docker engine is reachable');
    } finally {
      await lonely.close();
    }
  });

  it('are refused by a gateway started without containers', async () => {
    const plain = await startGateway({ port: 0, tokens: [TOKEN], containers: false });
    try {
      const error = await new RemoteProxyClient({ host: '127.0.0.1', port: plain.port }, options)
        .execute(containerPipeline({}), RuntimeData.json(1))
        .catch((e) => e);
      expect(String(error.message)).toContain('this gateway runs no containers');
    } finally {
      await plain.close();
    }
  });
});

async function runningContainers(gone: string): Promise<string> {
  const { execFile } = await import('node:child_process');
  // docker rm -f runs in the background of the kill: give it a moment.
  for (let i = 0; i < 50; i++) {
    const names = await new Promise<string>((resolve) =>
      execFile('docker', ['ps', '--format', '{{.Names}}'], (_e, stdout) => resolve(stdout)),
    );
    if (!names.includes(gone)) return names;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return `${gone} still running`;
}
