/**
 * The trust model, attacked as a token holder would: a real gateway on loopback,
 * real CPython, real bubblewrap. Signed tokens run only what they grant (refused
 * before any import or spawn); client code, where granted, runs sandboxed and can
 * reach neither the gateway's secrets, nor the network, nor the disk outside its
 * scratch directory.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import calculator from '../examples/manifests/calculator.json' with { type: 'json' };
import {
  GATEWAY_PROTOCOL_VERSION,
  type Manifest,
  RemoteMediaError,
  RuntimeData,
} from '../web/core/internal.ts';
import { RemoteProxyClient } from '../web/runtime/remote/remote-proxy-client.ts';
import { type Gateway, startGateway } from './gateway.ts';
import { type GatewayGrantsInput, mintGatewayToken, verifyGatewayToken } from './gateway-tokens.ts';

const PACKAGES = join(dirname(fileURLToPath(import.meta.url)), '..', 'python-packages');
const SECRET = randomBytes(32).toString('base64url');
const OPERATOR = `operator-${randomBytes(12).toString('hex')}`;
/** Processes all sandboxed nodes may hold together, on the test's gateway. */
const SANDBOX_PROCESSES = 64;

/** Every probe a hostile node would try, reported back as JSON. */
const PROBE = `
import json, os, socket
from remotemedia import Node

class Probe(Node):
    def process(self, data):
        report = {"uid": os.getuid(), "gid": os.getgid(), "cwd": os.getcwd(),
                  "env": dict(os.environ)}
        try:
            report["gateway_environ"] = open(f"/proc/{data['gatewayPid']}/environ", "rb").read().decode("latin-1")
        except OSError as error:
            report["gateway_environ"] = None
            report["gateway_environ_error"] = type(error).__name__
        try:
            socket.create_connection(("127.0.0.1", data["port"]), timeout=5).close()
            report["connected"] = True
        except OSError as error:
            report["connected"] = False
            report["connect_error"] = str(error)
        report["writes"] = {}
        for path in data["targets"]:
            try:
                with open(path, "w") as f:
                    f.write("x")
                report["writes"][path] = "written"
            except OSError as error:
                report["writes"][path] = type(error).__name__
        if data.get("scratch"):
            with open("scratch.txt", "w") as f:
                f.write("scratch")
            report["scratch"] = open(os.path.join(os.getcwd(), "scratch.txt")).read()
        return report
`;

interface ProbeReport {
  uid: number;
  gid: number;
  cwd: string;
  env: Record<string, string>;
  gateway_environ: string | null;
  connected: boolean;
  writes: Record<string, string>;
  scratch: string;
}

const pythonNode = (params: Record<string, unknown>): Manifest => ({
  version: 'v1',
  metadata: { name: 'trust' },
  nodes: [{ id: 'py', node_type: 'PythonNode', params }],
  connections: [],
});

let gateway: Gateway;
/** A second gateway whose CPython also sees `marker_mod` (the import-side-effect module). */
let markerGateway: Gateway;
let work: string;
let marker: string;
let listener: Server;
let listenerPort: number;
let listenerConnections = 0;
let savedSecret: string | undefined;

const client = (token: unknown, on: Gateway = gateway) =>
  new RemoteProxyClient(
    { host: '127.0.0.1', port: on.port },
    { token: token as string, WebSocket: WebSocket as unknown as typeof globalThis.WebSocket },
  );
const mint = (grants: GatewayGrantsInput, expiresIn: string | number | Date = '5m') =>
  mintGatewayToken(SECRET, grants, { expiresIn });
const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a refusal');
    },
    (error: unknown) => error as RemoteMediaError,
  );

beforeAll(async () => {
  // The gateway's own environment holds its secret, as when started from the command line:
  // no child may see it.
  savedSecret = process.env.REMOTEMEDIA_GATEWAY_TOKEN_SECRET;
  process.env.REMOTEMEDIA_GATEWAY_TOKEN_SECRET = SECRET;
  work = mkdtempSync(join(tmpdir(), 'gateway-trust-'));
  marker = join(work, 'imported');
  writeFileSync(
    join(work, 'marker_mod.py'),
    `open(${JSON.stringify(marker)}, "w").write("the module's top level ran")\n` +
      'from remotemedia import Node\nclass Marked(Node):\n    def process(self, data):\n        return data\n',
  );
  // A real CPython that also finds marker_mod: the interpreter option, wrapped.
  const wrapper = join(work, 'python3');
  writeFileSync(
    wrapper,
    `#!/bin/sh\nPYTHONPATH="$PYTHONPATH:${work}" exec /usr/bin/python3 "$@"\n`,
  );
  chmodSync(wrapper, 0o755);
  listener = createServer((socket) => {
    listenerConnections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  listenerPort = (listener.address() as { port: number }).port;
  gateway = await startGateway({
    port: 0,
    tokens: [OPERATOR],
    tokenSecret: SECRET,
    allowPickle: true,
    containers: false,
    sandbox: { maxProcesses: SANDBOX_PROCESSES },
  });
  markerGateway = await startGateway({
    port: 0,
    tokens: [OPERATOR],
    tokenSecret: SECRET,
    containers: false,
    python: { python: wrapper, spares: 0 },
  });
});

afterAll(async () => {
  await gateway?.close();
  await markerGateway?.close();
  listener?.close();
  rmSync(work, { recursive: true, force: true });
  if (savedSecret === undefined) delete process.env.REMOTEMEDIA_GATEWAY_TOKEN_SECRET;
  else process.env.REMOTEMEDIA_GATEWAY_TOKEN_SECRET = savedSecret;
});

describe('a token without the client-code grant', () => {
  it('cannot run inline source: unauthorized, and no process was started for it', async () => {
    const token = await mint({ classes: ['remotemedia.nodes:CalculatorNode'] });
    const before = new Set([...gateway.python.running, ...(gateway.sandboxed?.running ?? [])]);
    const error = await refusal(
      client(token).execute(pythonNode({ source: PROBE }), RuntimeData.json({})),
    );
    expect(error).toBeInstanceOf(RemoteMediaError);
    expect(error).toMatchObject({ kind: 'unauthorized' });
    expect(error.message).toMatch(
      /inline Python source is not granted by this token; it needs the clientCode grant/,
    );
    const after = [...gateway.python.running, ...(gateway.sandboxed?.running ?? [])];
    expect(after.every((p) => before.has(p) && p.nodeId === '?')).toBe(true);
  });

  it('cannot name an unlisted class path: refused before the module is imported', async () => {
    const token = await mint({ classes: ['remotemedia.nodes:CalculatorNode'] });
    for (const manifest of [
      pythonNode({ class: 'marker_mod:Marked' }),
      pythonNode({ class: 'os:system' }),
    ]) {
      const error = await refusal(
        client(token, markerGateway).execute(manifest, RuntimeData.json(1)),
      );
      expect(error).toMatchObject({ kind: 'unauthorized', nodeId: 'py' });
    }
    expect(existsSync(marker)).toBe(false);
    // The probe can fail: an operator token runs the class, and its import writes the marker.
    const ran = await client(OPERATOR, markerGateway).execute(
      pythonNode({ class: 'marker_mod:Marked' }),
      RuntimeData.json(7),
    );
    expect(ran).toEqual(RuntimeData.json(7));
    expect(readFileSync(marker, 'utf8')).toBe("the module's top level ran");
  });

  it('cannot send a pickle', async () => {
    const token = await mint({ classes: ['remotemedia.nodes:*'] });
    const error = await refusal(
      client(token).execute(pythonNode({ pickle: 'gASVAAAAAAAAAAA=' }), RuntimeData.json(1)),
    );
    expect(error).toMatchObject({ kind: 'unauthorized' });
    expect(error.message).toMatch(/a pickled Python object is not granted/);
  });

  it('runs the classes it lists (a bare name is remotemedia.nodes), and nothing else', async () => {
    const token = await mint({ classes: ['remotemedia.nodes:CalculatorNode'] });
    const add = (cls: string) =>
      pythonNode({ class: cls, params: { operation: 'add', operand: 2 } });
    expect(await client(token).execute(add('CalculatorNode'), RuntimeData.json(40))).toEqual(
      RuntimeData.json(42),
    );
    const error = await refusal(
      client(token).execute(add('remotemedia.nodes:PassThroughNode'), RuntimeData.json(1)),
    );
    expect(error).toMatchObject({ kind: 'unauthorized' });
    expect(error.message).toContain("Python class 'remotemedia.nodes:PassThroughNode'");
  });
});

describe("the node host's own check (node_host.py), for hosts that set REMOTEMEDIA_CLASS_MODULES", () => {
  const load = (classPath: string, modules: string | undefined) =>
    spawnSync(
      '/usr/bin/python3',
      [
        '-c',
        'import sys; from remotemedia.node_host import _load_class, NodeSpecError\n' +
          'try:\n    _load_class({"class": sys.argv[1]}); print("loaded")\n' +
          'except NodeSpecError as e:\n    print("refused:", e)',
        classPath,
      ],
      {
        env: {
          PYTHONPATH: `${PACKAGES}:${work}`,
          ...(modules === undefined ? {} : { REMOTEMEDIA_CLASS_MODULES: modules }),
        },
        encoding: 'utf8',
      },
    ).stdout.trim();

  it('refuses a module outside the list before importing it, and a loaded non-Node like os:system', () => {
    rmSync(marker, { force: true });
    expect(load('marker_mod:Marked', 'remotemedia')).toMatch(
      /^refused: 'marker_mod:Marked': module 'marker_mod' is not one this host imports/,
    );
    expect(existsSync(marker)).toBe(false);
    expect(load('os:system', 'remotemedia')).toBe(
      "refused: os has no Node subclass named 'system'",
    );
    expect(load('os:system()', undefined)).toMatch(/^refused: 'os:system\(\)' is not a class path/);
    expect(load('remotemedia.nodes:CalculatorNode', 'remotemedia')).toBe('loaded');
    // Without the list, the module is imported (the gateway's check came first).
    expect(load('marker_mod:Marked', undefined)).toBe('loaded');
    expect(existsSync(marker)).toBe(true);
  });
});

describe('tokens the gateway refuses with unauthorized', () => {
  it("a pickle, even the operator's, where the gateway does not unpickle: before any process", async () => {
    const before = new Set(markerGateway.python.running);
    const error = await refusal(
      client(OPERATOR, markerGateway).execute(
        pythonNode({ pickle: 'gASVAAAAAAAAAAA=' }),
        RuntimeData.json(1),
      ),
    );
    expect(error).toMatchObject({ kind: 'unauthorized', nodeId: 'py' });
    expect(error.message).toMatch(
      /nodes\[0\] \('py'\): refused a pickled object: this gateway does not unpickle \(its operator can allow it with --allow-pickle\)/,
    );
    expect(markerGateway.python.running.every((p) => before.has(p))).toBe(true);
  });

  it('an expired token', async () => {
    const token = await mint({ nodeTypes: ['*'] }, new Date(Date.now() - 60_000));
    const error = await refusal(client(token).execute(calculator as Manifest, RuntimeData.json(1)));
    expect(error).toMatchObject({ kind: 'unauthorized' });
    expect(error.message).toContain('the token has expired');
  });

  it('a token signed with another secret', async () => {
    const token = await mintGatewayToken(randomBytes(32).toString('base64url'), {
      nodeTypes: ['*'],
    });
    const error = await refusal(client(token).execute(calculator as Manifest, RuntimeData.json(1)));
    expect(error).toMatchObject({ kind: 'unauthorized' });
    expect(error.message).toContain('signature does not match');
  });

  it('a token for another node type (and the right one runs)', async () => {
    const token = await mint({ nodeTypes: ['Gain'] });
    const error = await refusal(client(token).execute(calculator as Manifest, RuntimeData.json(1)));
    expect(error).toMatchObject({ kind: 'unauthorized', nodeId: 'calc' });
    expect(error.message).toContain(`node type 'Calculator' is not granted`);
    const right = await mint({ nodeTypes: ['Calculator'] });
    expect(await client(right).execute(calculator as Manifest, RuntimeData.json(1))).toEqual(
      RuntimeData.json(6),
    );
  });

  it('a string that is not a token', async () => {
    for (const token of ['not-a-token-at-all', `${OPERATOR}x`]) {
      const ws = new WebSocket(gateway.url);
      await new Promise((resolve) => ws.once('open', resolve));
      const answer = new Promise<string>((resolve) =>
        ws.once('message', (d) => resolve(String(d))),
      );
      ws.send(
        JSON.stringify({
          type: 'open',
          version: GATEWAY_PROTOCOL_VERSION,
          token,
          island: {
            manifest: calculator,
            inputs: [{ sources: ['pass1'] }],
            outputs: [{ sink: 'pass2' }],
          },
        }),
      );
      expect(JSON.parse(await answer)).toMatchObject({
        type: 'error',
        error: { kind: 'unauthorized' },
      });
      ws.close();
    }
  });

  it('ceilings: more nodes than maxNodes is a limit', async () => {
    const token = await mint({ nodeTypes: ['*'], maxNodes: 2 });
    const error = await refusal(client(token).execute(calculator as Manifest, RuntimeData.json(1)));
    expect(error).toMatchObject({ kind: 'limit' });
  });
});

describe('client code, where a token grants it, runs in the sandbox', () => {
  const targets = () => [
    join(PACKAGES, 'remotemedia', `planted-${randomBytes(4).toString('hex')}.py`),
    `/root/planted-${randomBytes(4).toString('hex')}`,
    join(work, 'planted'),
  ];
  const probe = async (token: string, paths: string[]): Promise<ProbeReport> => {
    const out = await client(token).execute(
      pythonNode({ source: PROBE }),
      RuntimeData.json({
        gatewayPid: process.pid,
        port: listenerPort,
        targets: paths,
        scratch: token !== OPERATOR,
      }),
    );
    return (out as unknown as { value: ProbeReport }).value;
  };

  it('cannot read the gateway environment, reach loopback, or write outside its scratch dir, and is another uid', async () => {
    const token = await mint({ clientCode: true });
    const paths = targets();
    const connectionsBefore = listenerConnections;
    const report = await probe(token, paths);
    // Another uid, inside and (setpriv before bwrap) outside.
    expect(report.uid).toBe(65534);
    expect(report.uid).not.toBe(process.getuid!());
    // No secret in its environment, and the gateway's own is out of its sight.
    expect(Object.keys(report.env).filter((k) => k.startsWith('REMOTEMEDIA_GATEWAY'))).toEqual([]);
    expect(JSON.stringify(report.env)).not.toContain(SECRET);
    expect(JSON.stringify(report.env)).not.toContain(OPERATOR);
    expect(report.gateway_environ).toBeNull();
    // No network: the loopback port the test opened was never reached.
    expect(report.connected).toBe(false);
    expect(listenerConnections).toBe(connectionsBefore);
    // Nothing written outside the scratch dir; the scratch dir works.
    for (const path of paths) {
      expect(report.writes[path]).not.toBe('written');
      expect(existsSync(path)).toBe(false);
    }
    expect(report.scratch).toBe('scratch');
    expect(report.cwd).toBe('/tmp');
  });

  it('the same probes from a trusted operator session succeed (so they can fail), yet no secret is in its environment', async () => {
    const path = join(work, 'operator-wrote');
    const connectionsBefore = listenerConnections;
    const report = await probe(OPERATOR, [path]);
    expect(report.connected).toBe(true);
    expect(listenerConnections).toBe(connectionsBefore + 1);
    expect(report.writes[path]).toBe('written');
    // Unsandboxed code reads the gateway's /proc (why client code never runs so).
    expect(report.gateway_environ).toEqual(expect.stringContaining('PATH='));
    expect(Object.keys(report.env).filter((k) => k.startsWith('REMOTEMEDIA_GATEWAY'))).toEqual([]);
    expect(JSON.stringify(report.env)).not.toContain(SECRET);
  });

  it('runs outside the sandbox as uid 65534, not as the gateway user', async () => {
    const token = await mint({ clientCode: true });
    const session = await client(token).stream(pythonNode({ source: PROBE }));
    const process_ = gateway.sandboxed!.running.find((p) => p.nodeId === 'py')!;
    expect(process_).toBeDefined();
    const status = readFileSync(`/proc/${process_.pid}/status`, 'utf8');
    expect(status).toMatch(/^Uid:\s+65534\s+65534\s+65534\s+65534$/m);
    // Its argv holds no secret either.
    const argv = readFileSync(`/proc/${process_.pid}/cmdline`, 'utf8');
    expect(argv).toContain('bwrap');
    expect(argv).not.toContain(SECRET);
    await session.close();
  });

  it('a fork bomb stops at the sandbox process cap (RLIMIT_NPROC of its uid)', async () => {
    const bomb = `
import os
from remotemedia import Node

class Bomb(Node):
    def process(self, data):
        read, write = os.pipe()
        children, error = [], None
        try:
            for _ in range(${SANDBOX_PROCESSES * 4}):
                pid = os.fork()
                if pid == 0:
                    os.close(write)
                    os.read(read, 1)  # until the parent closes its end
                    os._exit(0)
                children.append(pid)
        except OSError as e:
            error = e.errno
        os.close(write)
        for pid in children:
            os.waitpid(pid, 0)
        return {"forked": len(children), "errno": error}
`;
    const token = await mint({ clientCode: true });
    const out = await client(token).execute(pythonNode({ source: bomb }), RuntimeData.json(0));
    const result = (out as unknown as { value: { forked: number; errno: number | null } }).value;
    expect(result.errno).toBe(11); // EAGAIN
    expect(result.forked).toBeLessThan(SANDBOX_PROCESSES);
  });

  it('without bubblewrap, client code is refused with the reason, and nothing is started for it', async () => {
    const bare = await startGateway({
      port: 0,
      tokenSecret: SECRET,
      containers: false,
      sandbox: { bwrap: join(work, 'no-such-bwrap') },
      python: { spares: 0 },
    });
    try {
      expect(bare.sandboxed).toBeUndefined();
      const token = await mint({ clientCode: true });
      const error = await refusal(
        client(token, bare).execute(pythonNode({ source: PROBE }), RuntimeData.json({})),
      );
      expect(error).toMatchObject({ kind: 'usage' });
      expect(error.message).toContain('no-such-bwrap not found');
      expect(bare.python.running).toEqual([]);
    } finally {
      await bare.close();
    }
  });

  it('a pickle runs with the grant (sandboxed, where the gateway unpickles)', async () => {
    const pickled = execFileSync(
      '/usr/bin/python3',
      [
        '-c',
        'import base64, pickle; from remotemedia.nodes import CalculatorNode; ' +
          'print(base64.b64encode(pickle.dumps(CalculatorNode(name="py", operation="add", operand=3))).decode())',
      ],
      { env: { PYTHONPATH: PACKAGES }, encoding: 'utf8' },
    ).trim();
    const token = await mint({ clientCode: true });
    expect(
      await client(token).execute(pythonNode({ pickle: pickled }), RuntimeData.json(4)),
    ).toEqual(RuntimeData.json(7));
  });
});

describe('scopes and ceilings of a signed token', () => {
  const withOrigin = (token: string, origin: string | undefined) => {
    class OriginSocket extends WebSocket {
      constructor(url: string) {
        super(url, origin === undefined ? {} : { headers: { origin } });
      }
    }
    return new RemoteProxyClient(
      { host: '127.0.0.1', port: gateway.port },
      { token, WebSocket: OriginSocket as unknown as typeof globalThis.WebSocket },
    );
  };

  it('a token scoped to an origin works from that page only', async () => {
    // Both origins are allowed by the gateway (its defaults); the token names one.
    const token = await mint({ nodeTypes: ['*'], origins: ['http://127.0.0.1:5173'] });
    const run = (origin: string | undefined) =>
      withOrigin(token, origin).execute(calculator as Manifest, RuntimeData.json(1));
    expect(await run('http://127.0.0.1:5173')).toEqual(RuntimeData.json(6));
    for (const origin of ['http://localhost:5173', undefined]) {
      const error = await refusal(run(origin));
      expect(error).toMatchObject({ kind: 'unauthorized' });
      expect(error.message).toContain('may be used only from http://127.0.0.1:5173');
    }
  });

  it('maxSessions: a second session at once is a limit; after the first ends, one opens', async () => {
    const token = await mint({ nodeTypes: ['*'], maxSessions: 1 });
    const first = await client(token).stream(calculator as Manifest);
    const error = await refusal(client(token).stream(calculator as Manifest));
    expect(error).toMatchObject({ kind: 'limit' });
    await first.close();
    await expect.poll(() => gateway.metrics.sessionsActive, { timeout: 10_000 }).toBe(0);
    const again = await client(token).stream(calculator as Manifest);
    await again.close();
  });

  it('`remotemedia-gateway token` prints a token this gateway accepts; a short secret is exit 2', () => {
    const command = (args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'remote-gateway/main.ts', 'token', ...args], {
        cwd: join(PACKAGES, '..'),
        env: { PATH: process.env.PATH, REMOTEMEDIA_GATEWAY_TOKEN_SECRET: SECRET },
        encoding: 'utf8',
      });
    const minted = command([
      '--classes',
      'remotemedia.nodes:CalculatorNode',
      '--expires-in',
      '10m',
    ]);
    expect(minted.stderr).toBe('');
    expect(minted.status).toBe(0);
    const token = minted.stdout.trim();
    return verifyGatewayToken(SECRET, token).then(async (authority) => {
      expect(authority.grants).toMatchObject({
        classes: ['remotemedia.nodes:CalculatorNode'],
        clientCode: false,
      });
      expect(authority.expiresAt - Date.now() / 1000).toBeGreaterThan(9 * 60);
      expect(authority.expiresAt - Date.now() / 1000).toBeLessThanOrEqual(10 * 60);
      const add = pythonNode({ class: 'CalculatorNode', params: { operation: 'add', operand: 1 } });
      expect(await client(token).execute(add, RuntimeData.json(1))).toEqual(RuntimeData.json(2));
      const short = command(['--secret', 'too-short']);
      expect(short.status).toBe(2);
      expect(short.stderr).toContain('32 characters or more');
    });
  });
});
