/**
 * The Python client's restart_on_loss (remotemedia.remote.RemoteProxy, real CPython)
 * when the restart itself meets a dying gateway: the connection is taken and never
 * answered (a stopped gateway), the WebSocket is upgraded and cut at the `open`,
 * and max_restarts 0. Real gateway on loopback behind a TCP relay the test moves
 * and cuts. Each run must end with WorkerLostError (kind worker_lost) saying why,
 * within a bound that stands for "no hang", with no asyncio task and no socket of
 * the client's left open (counted in the Python process after the error).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from './gateway.ts';
import { blackHole, dyingGateway, startLoopbackGateway } from './testing/loopback.ts';
import { type PythonError, startPython } from './testing/python-client.ts';
import { Relay } from './testing/tcp-relay.ts';

const TOKEN = 'attack-python-restart-token-0123456789';

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
  error: PythonError;
  got: number;
  tasks: string[];
  sockets: number;
}

/** Runs the script; `cut` runs once it is mid-stream. Fails (not hangs) past 20 s. */
async function runPython(port: number, maxRestarts: number, cut: () => void): Promise<Outcome> {
  const client = startPython(['-c', SCRIPT, port, maxRestarts]);
  await client.line(/^ready$/m);
  cut();
  client.go();
  return client.result<Outcome>(20_000);
}

let gateway: Gateway;
beforeAll(async () => {
  gateway = await startLoopbackGateway(TOKEN);
});
afterAll(async () => {
  await gateway?.close();
});

describe('the Python client restarting on a dying gateway', () => {
  it('a gateway that takes the connection and never answers: WorkerLostError within the window', async () => {
    const relay = await Relay.start(gateway.port);
    const hole = await blackHole();
    try {
      const outcome = await runPython(relay.port, 3, () => {
        relay.target = hole.port;
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
      await hole.close();
    }
  }, 60_000);

  it('a gateway that upgrades and dies at the open: WorkerLostError, a handful of tries', async () => {
    const relay = await Relay.start(gateway.port);
    const dying = await dyingGateway();
    try {
      const outcome = await runPython(relay.port, 3, () => {
        relay.target = dying.port;
        relay.cut();
      });
      expect(outcome.error?.type).toBe('WorkerLostError');
      expect(outcome.error?.message).toMatch(/restarting the session found no gateway/);
      expect(dying.opens).toBeGreaterThan(0);
      expect(dying.opens).toBeLessThanOrEqual(10);
      expect(outcome.tasks).toEqual([]);
      expect(outcome.sockets).toBeLessThanOrEqual(0);
    } finally {
      await relay.close();
      await dying.close();
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
