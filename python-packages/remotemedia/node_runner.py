"""Runs one Python node in this process for a gateway, over a pipe of its own.

`python3 -m remotemedia.node_runner [--fds R,W]` (on the gateway, or inside a
container over stdin/stdout; see _protocol_pipes) reads requests and writes
responses, all little-endian and length-prefixed:

    request:  u8 op, u32 length, payload
              op 1 create  (payload: the node spec as JSON, see node_host)
              op 2 process (payload: one frame-codec frame)
              op 3 flush   (no payload)
              op 4 cleanup (no payload; the runner exits after answering)
    response: u8 status, u32 count, then count x (u32 length, bytes)
              status 0 ok: the output frames
              status 1 error: one JSON payload {"type", "message", "traceback"}

Memory and time limits are the gateway's business (rlimits, kills); a crash is seen
there as the process ending. Standard library only."""

from __future__ import annotations

import asyncio
import json
import os
import struct
import sys
import traceback
from typing import BinaryIO, List, Optional

from .node_host import HostedNode

OP_CREATE, OP_PROCESS, OP_FLUSH, OP_CLEANUP = 1, 2, 3, 4
STATUS_OK, STATUS_ERROR = 0, 1
REQUEST = struct.Struct("<BI")
RESPONSE = struct.Struct("<BI")
LENGTH = struct.Struct("<I")


def _read_exact(stream: BinaryIO, n: int) -> Optional[bytes]:
    chunks = []
    while n > 0:
        chunk = stream.read(n)
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _write(stream: BinaryIO, status: int, payloads: List[bytes]) -> None:
    parts = [RESPONSE.pack(status, len(payloads))]
    for payload in payloads:
        parts.append(LENGTH.pack(len(payload)))
        parts.append(payload)
    stream.write(b"".join(parts))
    stream.flush()


async def _result(value):
    return await value if asyncio.iscoroutine(value) else value


async def serve(stdin: BinaryIO, stdout: BinaryIO) -> int:
    node: Optional[HostedNode] = None
    while True:
        head = _read_exact(stdin, REQUEST.size)
        if head is None:
            return 0  # the gateway closed the pipe
        op, length = REQUEST.unpack(head)
        payload = _read_exact(stdin, length) if length else b""
        if payload is None:
            return 1
        try:
            if op == OP_CREATE:
                node = HostedNode(payload.decode("utf-8"))
                await node.initialize()
                outputs: List[bytes] = []
            elif node is None:
                raise RuntimeError("no node: the first request must create it")
            elif op == OP_PROCESS:
                outputs = await _result(node.process(payload))
            elif op == OP_FLUSH:
                outputs = await _result(node.flush())
            elif op == OP_CLEANUP:
                await node.cleanup()
                _write(stdout, STATUS_OK, [])
                return 0
            else:
                raise ValueError(f"unknown op {op}")
            _write(stdout, STATUS_OK, outputs)
        except BaseException as error:  # KeyboardInterrupt included: report, keep serving
            if isinstance(error, SystemExit):
                raise
            report = {"type": type(error).__name__, "message": str(error), "traceback": traceback.format_exc()}
            _write(stdout, STATUS_ERROR, [json.dumps(report).encode("utf-8")])


def _protocol_pipes(argv: List[str]) -> "tuple[BinaryIO, BinaryIO]":
    """The protocol's own file descriptors, out of reach of a node's stray writes.

    `--fds R,W` (the gateway's local processes): requests on fd R, responses on fd W.
    Without it (`docker run -i` carries only stdin/stdout): stdin and stdout are
    moved to private descriptors first. Either way, before any node code runs, fd 0
    reads /dev/null and fd 1 (and sys.stdout) writes to stderr, so `print` or
    `os.write(1, ...)` from a node lands in the log, never in the protocol."""
    if "--fds" in argv:
        read_fd, write_fd = (int(fd) for fd in argv[argv.index("--fds") + 1].split(","))
    else:
        read_fd, write_fd = os.dup(0), os.dup(1)
    for fd in (read_fd, write_fd):
        os.set_inheritable(fd, False)  # not passed on to a node's subprocesses
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    sys.stdin = open(os.devnull, "r")
    sys.stdout = sys.stderr
    return os.fdopen(read_fd, "rb"), os.fdopen(write_fd, "wb")


def main() -> int:
    stdin, stdout = _protocol_pipes(sys.argv[1:])
    limit = os.environ.get("REMOTEMEDIA_MEMORY_LIMIT_BYTES")
    if limit:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (int(limit), int(limit)))
    return asyncio.run(serve(stdin, stdout))


if __name__ == "__main__":
    sys.exit(main())
