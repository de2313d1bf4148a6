"""One Python session (remotemedia.remote.RemoteProxy, PassThrough on the gateway)
with restart_on_loss through a TCP relay the test cuts and points elsewhere, for
remote-gateway/python-restart.test.ts. It streams FRAMES numbers; before each number
in PAUSES (comma-separated) it waits until every number sent so far came back or was
named lost, prints `paused <n>` and waits for a line on stdin (the test cuts the
relay meanwhile). Prints one JSON line: what came back, the restarts
(RestartedEvent.to_json()) and the error. RESTART (default 1) is restart_on_loss,
LIVENESS the liveness_timeout_s (default the client's).

    python3 python_relay_client.py PORT TOKEN FRAMES RECONNECT(0|1) MAX_RESTARTS PAUSES [RESTART(0|1) [LIVENESS]]
"""

import asyncio
import json
import sys

from remotemedia.remote import RemoteExecutorConfig, RemoteProxy

PIPELINE = {
    "version": "v1",
    "metadata": {"name": "python-relay"},
    "nodes": [{"id": "in", "node_type": "PassThrough", "params": {}}],
    "connections": [],
}


async def main(
    port: int, token: str, frames: int, reconnect: bool, max_restarts: int, pauses: list, restart: bool, liveness: dict
) -> None:
    config = RemoteExecutorConfig(
        host="127.0.0.1", port=port, token=token, reconnect=reconnect,
        restart_on_loss=restart, max_restarts=max_restarts, reconnect_window_s=5.0, **liveness,
    )
    proxy = await RemoteProxy.open_island(config, PIPELINE, ["in"], ["in"])
    received = []
    loop = asyncio.get_running_loop()

    def settled() -> int:
        return len(received) + sum(len(event.lost[0]["frames"]) for event in proxy.restarts)

    async def inputs():
        for i in range(1, frames + 1):
            if i in pauses:
                while settled() < i - 1:
                    await asyncio.sleep(0.005)
                print(f"paused {i}", flush=True)
                await loop.run_in_executor(None, sys.stdin.readline)
            yield i

    error = None
    try:
        async for out in proxy.stream(inputs()):
            received.append(out)
        await proxy.close()
    except Exception as caught:
        error = {"type": type(caught).__name__, "kind": getattr(caught, "kind", None), "message": str(caught)}
    print(json.dumps({
        "received": received, "error": error, "restarts": [event.to_json() for event in proxy.restarts],
    }), flush=True)


if __name__ == "__main__":
    port, token, frames, reconnect, max_restarts, pauses = sys.argv[1:7]
    restart = len(sys.argv) <= 7 or sys.argv[7] == "1"
    liveness = {"liveness_timeout_s": float(sys.argv[8])} if len(sys.argv) > 8 else {}
    asyncio.run(main(
        int(port), token, int(frames), reconnect == "1", int(max_restarts), [int(p) for p in pauses.split(",")],
        restart, liveness,
    ))
