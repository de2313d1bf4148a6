/**
 * The Python client's restart_on_loss (remotemedia.remote.RemoteProxy, real CPython)
 * when the restart itself meets a dying gateway: the connection is taken and never
 * answered (a stopped gateway), the WebSocket is upgraded and cut at the `open`,
 * and max_restarts 0. Real gateway on loopback behind a TCP relay the test moves
 * and cuts. Each run must end with WorkerLostError (kind worker_lost) saying why,
 * within a bound that stands for "no hang", with no asyncio task and no socket of
 * the client's left open (counted in the Python process after the error).
 */
import { spawn } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { type Gateway, startGateway } from './gateway.ts';
import { Relay } from './testing/tcp-relay.ts';

const TOKEN = 'attack-python-restart-token-0123456789';
const PACKAGES = join(import.meta.dirname, '..', 'python-packages');

const SCRIPT = `
import asyncio, json, os, sys
from remotemedia.remote import RemoteExecutorConfig, RemoteProxy

PIPELINE = {"version": "v1", "metadata": {"name": "attack-python-restart"},
            "nodes": [{"id": "in", "node_type": "PassThrough", "params": {}}], "connections": []}

def sockets():
    n = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            n += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
        except OSError:
            pass
    return n

async def main(port, max_restarts):
    before = sockets()
    config = RemoteExecutorConfig(host="127.0.0.1", port=port, token="${TOKEN}", restart_on_loss=True,
                                  max_restarts=max_restarts, reconnect_window_s=1.5)
    proxy = await RemoteProxy.open_island(config, PIPELINE, ["in"], ["in"])
    got = []
    loop = asyncio.get_running_loop()

    async def inputs():
        for i in range(1, 1000):
            if i == 4:
                while len(got) < 3:
                    await asyncio.sleep(0.005)
                print("ready", flush=True)
                await loop.run_in_executor(None, sys.stdin.readline)  # the test cuts now
            yield i
            await asyncio.sleep(0.01)

    error = None
    try:
        async for out in proxy.stream(inputs()):
            got.append(out)
    except Exception as e:
        error = {"type": type(e).__name__, "kind": getattr(e, "kind", None), "message": str(e)}
    try:
        await proxy.close()
    except Exception:
        pass
    await asyncio.sleep(0.2)  # what was closed has let go
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    print(json.dumps({"error": error, "got": len(got), "tasks": [repr(t) for t in tasks],
                      "sockets": sockets() - before}), flush=True)

asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
`;

interface Outcome {
  error: { type: string; kind: string | null; message: string } | null;
  got: number;
  tasks: string[];
  sockets: number;
}

/** Runs the script; `cut` runs once it is mid-stream. Fails (not hangs) past `boundMs`. */
function runPython(port: number, maxRestarts: number, cut: () => void, boundMs = 20_000) {
  return new Promise<Outcome>((resolve, reject) => {
    const child = spawn('/usr/bin/python3', ['-c', SCRIPT, String(port), String(maxRestarts)], {
      env: { ...process.env, PYTHONPATH: PACKAGES },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const bound = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`hung: no result within ${boundMs} ms; stdout ${out}; stderr ${err}`));
    }, boundMs);
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('ready\n') && !out.includes('cut\n')) {
        out += 'cut\n';
        cut();
        child.stdin.write('\n');
      }
      const last = out.trim().split('\n').at(-1)!;
      if (last.startsWith('{')) {
        clearTimeout(bound);
        resolve(JSON.parse(last) as Outcome);
      }
    });
    child.on('exit', (code) => {
      if (code !== 0) {
        clearTimeout(bound);
        reject(new Error(`python exited ${code}: ${err}`));
      }
    });
  });
}

let gateway: Gateway;
beforeAll(async () => {
  gateway = await startGateway({ port: 0, tokens: [TOKEN], containers: false });
});
afterAll(async () => {
  await gateway?.close();
});

describe('the Python client restarting on a dying gateway', () => {
  it('a gateway that takes the connection and never answers: WorkerLostError within the window', async () => {
    const relay = await Relay.start(gateway.port);
    const held = new Set<Socket>();
    const hole = createServer((socket) => {
      held.add(socket);
      socket.resume();
      socket.on('error', () => {});
      socket.on('close', () => held.delete(socket));
    });
    await new Promise<void>((resolve) => hole.listen(0, '127.0.0.1', resolve));
    try {
      const outcome = await runPython(relay.port, 3, () => {
        relay.target = (hole.address() as { port: number }).port;
        relay.cut();
      });
      expect(outcome.error?.type).toBe('WorkerLostError');
      expect(outcome.error?.kind).toBe('worker_lost');
      expect(outcome.error?.message).toMatch(/within 1\.5 s/);
      expect(outcome.got).toBeGreaterThanOrEqual(3);
      expect(outcome.tasks).toEqual([]);
      expect(outcome.sockets).toBeLessThanOrEqual(0);
    } finally {
      await relay.close();
      for (const socket of held) socket.destroy();
      await new Promise<void>((resolve) => hole.close(() => resolve()));
    }
  }, 60_000);

  it('a gateway that upgrades and dies at the open: WorkerLostError, a handful of tries', async () => {
    const relay = await Relay.start(gateway.port);
    const dying = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise<void>((resolve) => dying.once('listening', () => resolve()));
    let opens = 0;
    dying.on('connection', (socket) =>
      socket.on('message', () => {
        opens++;
        socket.terminate();
      }),
    );
    try {
      const outcome = await runPython(relay.port, 3, () => {
        relay.target = (dying.address() as { port: number }).port;
        relay.cut();
      });
      expect(outcome.error?.type).toBe('WorkerLostError');
      expect(outcome.error?.message).toMatch(/restarting the session found no gateway/);
      expect(opens).toBeGreaterThan(0);
      expect(opens).toBeLessThanOrEqual(10);
      expect(outcome.tasks).toEqual([]);
      expect(outcome.sockets).toBeLessThanOrEqual(0);
    } finally {
      await relay.close();
      await new Promise<void>((resolve) => dying.close(() => resolve()));
    }
  }, 60_000);

  it('max_restarts 0: the first loss is a WorkerLostError naming the limit, nothing reopened', async () => {
    const relay = await Relay.start(gateway.port);
    let connections = 0;
    relay.server.on('connection', () => connections++);
    try {
      const outcome = await runPython(relay.port, 0, () => relay.cut());
      expect(outcome.error?.type).toBe('WorkerLostError');
      expect(outcome.error?.message).toMatch(/max_restarts 0/);
      expect(connections).toBe(1);
      expect(outcome.tasks).toEqual([]);
      expect(outcome.sockets).toBeLessThanOrEqual(0);
    } finally {
      await relay.close();
    }
  }, 60_000);
});
