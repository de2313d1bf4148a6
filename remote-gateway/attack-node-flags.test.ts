/**
 * The gateway's Node flags as users get them (node-flags.ts): however main.ts is
 * started — plain `node main.js` as a Dockerfile's CMD would, with the user's own
 * NODE_OPTIONS, with a floor of their own — the process that serves sessions runs
 * with `--initial-old-space-size`, seen from inside it: a node module of our own
 * (--nodes) returns its process.execArgv, pid and heap limit to a real client
 * session on loopback. The relaunch leaves nothing behind: a SIGKILL of the process
 * started ends the gateway too, SIGTERM still drains and exits 0, a bad flag is still
 * exit status 2, and REMOTEMEDIA_GATEWAY_NODE_FLAGS=0 runs it as started.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { RuntimeData } from '../web/core/runtime-data.ts';
import { RemoteProxyClient } from '../web/runtime/remote/remote-proxy-client.ts';
import { GATEWAY_NODE_FLAGS, hasGatewayFlags } from './node-flags.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const TOKEN = 'attack-node-flags-token';
const scratch = mkdtempSync(join(tmpdir(), 'rm-attack-flags-'));
const PROBE = join(scratch, 'probe-nodes.js');
/** The probe's record of each SIGTERM the serving process receives. */
const TERMS = join(scratch, 'sigterms.log');
writeFileSync(
  PROBE,
  `import { appendFileSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';
process.on('SIGTERM', () => appendFileSync(${JSON.stringify(TERMS)}, 'TERM ' + process.pid + '\\n'));
const noParams = { '~standard': { version: 1, vendor: 'probe', validate: (v) => ({ value: v ?? {} }) } };
export default [{
  type: 'ProcessProbe', description: 'The serving process: its flags, pid and heap limit.',
  params: noParams, accepts: ['json'],
  create() { return { process() { return { kind: 'json', value: {
    execArgv: process.execArgv, pid: process.pid,
    heapLimitMb: getHeapStatistics().heap_size_limit / 2 ** 20 } }; } }; },
}];
`,
);
const started: ChildProcess[] = [];
afterAll(() => {
  for (const child of started) child.kill('SIGKILL');
  rmSync(scratch, { recursive: true, force: true });
});

const PROBE_MANIFEST = {
  version: 'v1',
  metadata: { name: 'probe' },
  nodes: [{ id: 'probe', node_type: 'ProcessProbe', params: {} }],
  connections: [],
};

interface Probe {
  execArgv: string[];
  pid: number;
  heapLimitMb: number;
}

/** Starts main.ts as `node [nodeFlags] --import tsx main.ts …` and waits for its address. */
async function startGateway(nodeFlags: string[], env: NodeJS.ProcessEnv = {}, detached = false) {
  const child = spawn(
    process.execPath,
    [
      ...nodeFlags,
      '--import',
      'tsx',
      'remote-gateway/main.ts',
      '--port',
      '0',
      '--token',
      TOKEN,
      '--no-containers',
      '--nodes',
      PROBE,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env }, detached },
  );
  started.push(child);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const found = /RemoteMedia gateway on ws:\/\/[^:]+:(\d+)/.exec(out);
      if (found) resolve(Number(found[1]));
    });
    void exited.then(({ code }) => reject(new Error(`gateway exited (${code}): ${stderr}`)));
  });
  const client = () =>
    new RemoteProxyClient(
      { host: '127.0.0.1', port },
      { token: TOKEN, WebSocket: WebSocket as unknown as typeof globalThis.WebSocket },
    );
  const probe = async (): Promise<Probe> => {
    const out = (await client().execute(PROBE_MANIFEST, RuntimeData.json(1))) as unknown as {
      value: Probe;
    };
    return out.value;
  };
  return { child, port, client, probe, exited, stderr: () => stderr };
}

const FLOOR = GATEWAY_NODE_FLAGS[0]!;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('the gateway Node flags, however main.ts is started', () => {
  it('hasGatewayFlags: any value of the flag counts, - or _', () => {
    expect(hasGatewayFlags([FLOOR])).toBe(true);
    expect(hasGatewayFlags(['--initial_old_space_size=512'])).toBe(true);
    expect(hasGatewayFlags(['--max-old-space-size=512'])).toBe(false);
    expect(hasGatewayFlags([])).toBe(false);
  });

  it('plain `node main` (no shebang, no flag): the serving process has the flag; SIGKILL of the one started ends it too', async () => {
    const gateway = await startGateway([]);
    const seen = await gateway.probe();
    expect(seen.execArgv).toContain(FLOOR);
    expect(seen.pid).not.toBe(gateway.child.pid); // served by the relaunched child
    gateway.child.kill('SIGKILL');
    await gateway.exited;
    // The child notices its parent's end (IPC channel closed) and exits: wait for it.
    while (alive(seen.pid)) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(alive(seen.pid)).toBe(false);
  }, 60_000);

  it('started with the flag: served in that process, nothing relaunched', async () => {
    const gateway = await startGateway([FLOOR]);
    const seen = await gateway.probe();
    expect(seen.pid).toBe(gateway.child.pid);
    expect(seen.execArgv).toContain(FLOOR);
    gateway.child.kill('SIGKILL');
  }, 60_000);

  it("the user's NODE_OPTIONS still apply (their heap cap kept) beside the flag", async () => {
    const gateway = await startGateway([], { NODE_OPTIONS: '--max-old-space-size=300' });
    const seen = await gateway.probe();
    expect(seen.execArgv).toContain(FLOOR);
    expect(seen.heapLimitMb).toBeLessThan(400); // 300 MB + new space, not V8's default of GBs
    gateway.child.kill('SIGKILL');
  }, 60_000);

  it("a floor of the user's own is kept, not relaunched", async () => {
    const gateway = await startGateway(['--initial-old-space-size=200']);
    const seen = await gateway.probe();
    expect(seen.pid).toBe(gateway.child.pid);
    expect(seen.execArgv).toEqual(expect.arrayContaining(['--initial-old-space-size=200']));
    expect(seen.execArgv).not.toContain(FLOOR);
    gateway.child.kill('SIGKILL');
  }, 60_000);

  it('REMOTEMEDIA_GATEWAY_NODE_FLAGS=0 runs it as started', async () => {
    const gateway = await startGateway([], { REMOTEMEDIA_GATEWAY_NODE_FLAGS: '0' });
    const seen = await gateway.probe();
    expect(seen.pid).toBe(gateway.child.pid);
    expect(seen.execArgv).not.toContain(FLOOR);
    gateway.child.kill('SIGKILL');
  }, 60_000);

  it('under --inspect it runs as started, so a debugger attaches to the gateway itself', async () => {
    const gateway = await startGateway(['--inspect=127.0.0.1:0']);
    const seen = await gateway.probe();
    expect(seen.pid).toBe(gateway.child.pid);
    expect(gateway.stderr()).toContain('Debugger listening');
    gateway.child.kill('SIGKILL');
  }, 60_000);

  it('relaunched: SIGTERM to the process started drains the gateway, which exits 0', async () => {
    const gateway = await startGateway([]);
    const seen = await gateway.probe();
    gateway.child.kill('SIGTERM');
    expect(await gateway.exited).toEqual({ code: 0, signal: null });
    expect(alive(seen.pid)).toBe(false);
  }, 60_000);

  it('relaunched: SIGTERM to the whole process group (Ctrl-C, kill -- -PGID) reaches the gateway once', async () => {
    const gateway = await startGateway([], {}, true);
    const seen = await gateway.probe();
    expect(seen.pid).not.toBe(gateway.child.pid);
    const session = await gateway.client().stream(PROBE_MANIFEST);
    process.kill(-gateway.child.pid!, 'SIGTERM');
    const termed = () =>
      existsSync(TERMS) && readFileSync(TERMS, 'utf8').includes(`TERM ${seen.pid}`);
    while (!termed()) await new Promise((resolve) => setTimeout(resolve, 25));
    // Draining: the open session is still served (a second SIGTERM, main.ts's "stop
    // at once", would have closed it).
    await session.sendInput(RuntimeData.json(2));
    const next = await session[Symbol.asyncIterator]().next();
    expect((next.value?.data as { value: Probe } | undefined)?.value.pid).toBe(seen.pid);
    await session.close();
    expect(await gateway.exited).toEqual({ code: 0, signal: null });
    while (alive(seen.pid)) await new Promise((resolve) => setTimeout(resolve, 50));
    const terms = readFileSync(TERMS, 'utf8')
      .split('\n')
      .filter((line) => line === `TERM ${seen.pid}`);
    expect(terms).toHaveLength(1);
  }, 60_000);

  it('relaunched: a bad flag is still one line and exit status 2', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'remote-gateway/main.ts', '--port', 'nope'],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    started.push(child);
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  }, 60_000);
});
