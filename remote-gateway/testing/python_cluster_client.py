"""The Python client through a fleet, for remote-gateway/cluster.test.ts: SESSIONS
resumable sessions (remotemedia.remote.RemoteProxy, PassThrough on the gateway) at
ws://127.0.0.1:PORT, each streaming FRAMES numbers. At each of the CUTS points every
session pauses; the script prints "paused <k>" and waits for a line on stdin (the
test cuts every connection meanwhile), then all carry on and resume. Prints one JSON
line: per session, the gateway it opened on, its resumes and what came back.

    python3 python_cluster_client.py PORT TOKEN SESSIONS FRAMES CUTS
"""

import asyncio
import json
import sys

from remotemedia.remote import RemoteExecutorConfig, RemoteProxy

PIPELINE = {
    "version": "v1",
    "metadata": {"name": "python-cluster"},
    "nodes": [{"id": "in", "node_type": "PassThrough", "params": {}}],
    "connections": [],
}


async def main(port: int, token: str, sessions: int, frames: int, cuts: int) -> None:
    config = RemoteExecutorConfig(host="127.0.0.1", port=port, token=token, reconnect=True)
    proxies = [await RemoteProxy.open_island(config, PIPELINE, ["in"], ["in"]) for _ in range(sessions)]
    points = [frames * (i + 1) // (cuts + 1) for i in range(cuts)]
    received = [[] for _ in proxies]
    errors = [None] * sessions
    passed = [0] * sessions
    arrived = [0] * cuts
    all_in = [asyncio.Event() for _ in range(cuts)]
    go = [asyncio.Event() for _ in range(cuts)]

    async def run(index: int, proxy: RemoteProxy) -> None:
        async def inputs():
            for i in range(1, frames + 1):
                if i - 1 in points:
                    cut = points.index(i - 1)
                    # Mid-stream, not mid-frame: what was sent has come back.
                    while len(received[index]) < i - 1:
                        await asyncio.sleep(0.005)
                    arrive(cut)
                    passed[index] += 1
                    await go[cut].wait()
                yield i

        try:
            async for out in proxy.stream(inputs()):
                received[index].append(out)
            await proxy.close()
        except Exception as error:  # reported, and the others are not left waiting for it
            errors[index] = f"{type(error).__name__}: {error}"
            for cut in range(passed[index], cuts):
                arrive(cut)

    def arrive(cut: int) -> None:
        arrived[cut] += 1
        if arrived[cut] == sessions:
            all_in[cut].set()

    runs = asyncio.gather(*(run(i, p) for i, p in enumerate(proxies)))
    loop = asyncio.get_running_loop()
    for cut in range(cuts):
        await all_in[cut].wait()
        print(f"paused {cut}", flush=True)
        await loop.run_in_executor(None, sys.stdin.readline)
        go[cut].set()
    await runs
    print(json.dumps([
        {"gateway": p.gateway, "resumes": p.resumes, "received": r, "error": e}
        for p, r, e in zip(proxies, received, errors)
    ]), flush=True)


if __name__ == "__main__":
    port, token, sessions, frames, cuts = sys.argv[1:6]
    asyncio.run(main(int(port), token, int(sessions), int(frames), int(cuts)))
