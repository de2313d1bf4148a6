"""The Python client through a fleet whose gateway dies, for
remote-gateway/python-restart.test.ts: SESSIONS resumable sessions
(remotemedia.remote.RemoteProxy, PassThrough on the gateway) at ws://127.0.0.1:PORT,
half of them with restart_on_loss, each streaming FRAMES numbers. The test
drives it over stdin/stdout, so the loss happens at known points without timing:

1. once every session has had its first ANSWERED numbers back, it prints
   `paused {json: [{gateway, restart}]}` and waits for a line (the test stops one
   gateway with SIGSTOP);
2. each session sends its next INTO_STOPPED numbers (a stopped gateway takes them
   and answers nothing), then it prints `sent` and waits for a line (the test kills
   the stopped gateway);
3. all carry on to FRAMES. Prints one JSON line: per session, what came back, its
   restarts (RestartedEvent.to_json()) and its error.

    python3 python_restart_client.py PORT TOKEN SESSIONS FRAMES ANSWERED INTO_STOPPED
"""

import asyncio
import json
import sys

from remotemedia.remote import RemoteExecutorConfig, RemoteProxy

PIPELINE = {
    "version": "v1",
    "metadata": {"name": "python-restart"},
    "nodes": [{"id": "in", "node_type": "PassThrough", "params": {}}],
    "connections": [],
}


class Barrier:
    """Every session arrives; the script goes on once all have."""

    def __init__(self, parties: int) -> None:
        self.parties = parties
        self.arrived = 0
        self.full = asyncio.Event()
        self.open = asyncio.Event()

    async def arrive(self) -> None:
        self.arrived += 1
        if self.arrived == self.parties:
            self.full.set()
        await self.open.wait()

    def give_up(self) -> None:
        """A failed session arrives without waiting, so the others are not held."""
        self.arrived += 1
        if self.arrived == self.parties:
            self.full.set()


async def main(port: int, token: str, sessions: int, frames: int, answered: int, into_stopped: int) -> None:
    def config(restart: bool) -> RemoteExecutorConfig:
        return RemoteExecutorConfig(
            host="127.0.0.1", port=port, token=token, reconnect=True, restart_on_loss=restart, reconnect_window_s=5.0
        )

    # Half ask, in runs of 3: nginx spreads new sessions over the 3 gateways in turn
    # (least_conn), so each gateway gets some of both.
    asks = [(i // 3) % 2 == 1 for i in range(sessions)]
    proxies = [await RemoteProxy.open_island(config(ask), PIPELINE, ["in"], ["in"]) for ask in asks]
    first_gateway = [p.gateway for p in proxies]
    received = [[] for _ in proxies]
    errors = [None] * sessions
    heard = [[] for _ in proxies]
    for index, proxy in enumerate(proxies):
        proxy.on_restarted(heard[index].append)
    stops = [Barrier(sessions), Barrier(sessions)]

    async def run(index: int, proxy: RemoteProxy) -> None:
        passed = 0

        async def inputs():
            nonlocal passed
            for i in range(1, frames + 1):
                if i == answered + 1:
                    while len(received[index]) < answered:  # mid-stream: all sent so far came back
                        await asyncio.sleep(0.005)
                    passed = 1
                    await stops[0].arrive()
                if i == answered + into_stopped + 1:
                    passed = 2
                    await stops[1].arrive()
                yield i

        try:
            async for out in proxy.stream(inputs()):
                received[index].append(out)
            await proxy.close()
        except Exception as error:  # reported; the others are not left waiting for it
            errors[index] = {"type": type(error).__name__, "kind": getattr(error, "kind", None), "message": str(error)}
            for barrier in stops[passed:]:
                barrier.give_up()

    runs = asyncio.gather(*(run(i, p) for i, p in enumerate(proxies)))
    loop = asyncio.get_running_loop()
    await stops[0].full.wait()
    print("paused " + json.dumps([{"gateway": g, "restart": a} for g, a in zip(first_gateway, asks)]), flush=True)
    await loop.run_in_executor(None, sys.stdin.readline)
    stops[0].open.set()
    await stops[1].full.wait()
    print("sent", flush=True)
    await loop.run_in_executor(None, sys.stdin.readline)
    stops[1].open.set()
    await runs
    print(json.dumps([
        {
            "gateway": first_gateway[i], "restart": asks[i], "received": received[i], "error": errors[i],
            "restarts": [event.to_json() for event in proxies[i].restarts],
            "heard": len(heard[i]),
        }
        for i in range(sessions)
    ]), flush=True)


if __name__ == "__main__":
    args = [int(a) if n != 1 else a for n, a in enumerate(sys.argv[1:7])]
    asyncio.run(main(*args))
