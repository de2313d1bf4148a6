/**
 * The Python client's restart_on_loss inside Pyodide, for real: Chromium runs the
 * `remotemedia` package in Pyodide on the page, whose RemoteProxy reaches a fleet of
 * gateway processes behind Debian's nginx through the browser's WebSocket
 * (remotemedia/remote/sockets.py BrowserSocket; tests/browser/gateway-cluster-commands.ts
 * starts the fleet). The Python code drives the stream and calls back into the test
 * (browser commands) to stop and kill the gateway holding its session:
 *  - kill -9 mid-stream (stopped first, so frames are in flight when it dies): the
 *    session restarts on another gateway with one RestartedEvent naming exactly the
 *    frames lost (received + lost = sent, none twice), and the stream goes on;
 *  - SIGSTOP, never killed: the browser's WebSocket has no ping, so only the
 *    client's liveness check (liveness_timeout_s) can notice; it restarts likewise.
 * Nothing waits on time; the timeouts are hang detectors.
 */
import { commands } from 'vitest/browser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PipelineRunner } from '../../core/internal.ts';
import { type PythonRuntime, startPythonRuntime } from '../../python/python-runtime.ts';
import { pythonSources } from '../../python/python-sources.ts';
import type { Fleet } from '../../../tests/browser/gateway-cluster-commands.ts';
import type { PythonError, PythonRestart } from '../../../remote-gateway/testing/python-client.ts';

const TOKEN = 'python-restart-browser-token-0123456789';
const FRAMES = 120;
const ANSWERED = 40;
const INTO_STOPPED = 10;

/**
 * The session, in Python: FRAMES numbers through a PassThrough on the gateway; after
 * ANSWERED came back it awaits `stop_gateway()` (the test's command), sends
 * INTO_STOPPED more, then awaits `lose_gateway()` (kill, or nothing: left stopped),
 * and carries on. Its value: JSON of what came back, the restarts and the error.
 */
const SESSION = `
import asyncio, json
from remotemedia.remote import RemoteExecutorConfig, RemoteProxy

PIPELINE = {"version": "v1", "metadata": {"name": "pyodide-restart"},
            "nodes": [{"id": "in", "node_type": "PassThrough", "params": {}}], "connections": []}

async def session(port, token, frames, answered, into_stopped, liveness_s):
    config = RemoteExecutorConfig(host="127.0.0.1", port=port, token=token, reconnect=True,
                                  restart_on_loss=True, reconnect_window_s=1.5, liveness_timeout_s=liveness_s)
    proxy = await RemoteProxy.open_island(config, PIPELINE, ["in"], ["in"])
    got, heard, lost_to = [], [], {}
    proxy.on_restarted(heard.append)

    async def inputs():
        for i in range(1, frames + 1):
            if i == answered + 1:
                while len(got) < answered:
                    await asyncio.sleep(0.005)
                lost_to["stopped"] = await stop_gateway()
            if i == answered + into_stopped + 1:
                await lose_gateway()
                # What follows goes where the session runs now.
                while not proxy.restarts:
                    await asyncio.sleep(0.01)
            yield i

    error = None
    try:
        async for out in proxy.stream(inputs()):
            got.append(out)
        await proxy.close()
    except Exception as e:
        error = {"type": type(e).__name__, "kind": getattr(e, "kind", None), "message": str(e)}
    return json.dumps({"received": got, "error": error, "heard": len(heard), "stopped": lost_to.get("stopped"),
                       "restarts": [r.to_json() for r in proxy.restarts]})
`;

interface Outcome {
  received: number[];
  error: PythonError;
  heard: number;
  stopped: string;
  restarts: PythonRestart[];
}

describe('the Python client in Pyodide (Chromium) when its gateway is lost (3 gateways behind nginx)', () => {
  let fleet: Fleet;
  let python: PythonRuntime;
  beforeAll(async () => {
    fleet = await commands.startGatewayFleet(3, TOKEN);
    const { loadPyodide } = await import('pyodide');
    python = await startPythonRuntime({
      load: () => loadPyodide(),
      files: pythonSources,
      runner: new PipelineRunner(),
    });
    python.pyodide.runPython(SESSION);
    python.pyodide.globals.set('stop_gateway', () => commands.freezeBusyGateway());
  }, 120_000);
  afterAll(async () => {
    await commands.stopGatewayFleet();
  });

  const run = async (liveness: number, lose: () => Promise<unknown>): Promise<Outcome> => {
    await commands.gatewayFleetIdle();
    python.pyodide.globals.set('lose_gateway', lose);
    const text = (await python.pyodide.runPythonAsync(
      `await session(${fleet.port}, ${JSON.stringify(TOKEN)}, ${FRAMES}, ${ANSWERED}, ${INTO_STOPPED}, ${liveness})`,
    )) as string;
    return JSON.parse(text) as Outcome;
  };

  const expectRestartedExactly = (outcome: Outcome, reason: RegExp) => {
    expect(outcome.error).toBeNull();
    expect(outcome.restarts).toHaveLength(1);
    expect(outcome.heard).toBe(1);
    const event = outcome.restarts[0]!;
    expect(event).toMatchObject({
      type: 'restarted',
      lostGateway: outcome.stopped,
      nodesReset: ['in'],
      received: [ANSWERED],
      restarts: 1,
    });
    expect(event.gateway).toMatch(/^g\d$/);
    expect(event.gateway).not.toBe(outcome.stopped);
    expect(event.reason).toMatch(reason);
    expect(event.sent).toEqual([{ port: 0, first: 1, last: event.sent[0]!.last }]);
    expect(event.sent[0]!.last).toBeGreaterThanOrEqual(ANSWERED + INTO_STOPPED);
    const lost = event.lost[0]!.frames;
    expect(lost).toEqual(
      Array.from({ length: event.sent[0]!.last - ANSWERED }, (_, k) => ANSWERED + 1 + k),
    );
    expect([...outcome.received, ...lost].sort((a, b) => a - b)).toEqual(
      Array.from({ length: FRAMES }, (_, k) => k + 1),
    );
    expect(outcome.received.at(-1)).toBe(FRAMES);
    return lost;
  };

  it('kill -9 mid-stream: restart_on_loss carries on elsewhere, its RestartedEvent names exactly the frames lost', async () => {
    const outcome = await run(8, () => commands.killBusyGateway());
    const lost = expectRestartedExactly(outcome, new RegExp(`gateway ${outcome.stopped}`));
    console.log(
      `Pyodide restart: killed ${outcome.stopped}, lost ${lost.length} frames (${lost[0]}..${lost.at(-1)}), carried on on ${outcome.restarts[0]!.gateway}`,
    );
  }, 90_000);

  it('SIGSTOP, never killed: liveness_timeout_s notices the silence, and it restarts elsewhere', async () => {
    const outcome = await run(2, async () => {});
    const lost = expectRestartedExactly(
      outcome,
      /the gateway sent nothing for \d+\.\d s \(liveness_timeout_s 2\): it is paused, hung or unreachable/,
    );
    console.log(
      `Pyodide liveness: ${outcome.stopped} stopped, lost ${lost.length} frames, carried on on ${outcome.restarts[0]!.gateway}`,
    );
  }, 90_000);
});
