"""Runs one Python node in this process for a gateway, over a pipe of its own.

`python3 -m remotemedia.node_runner [--fds R,W]` (on the gateway, or inside a
container over stdin/stdout; see _protocol_pipes) reads requests and writes
responses, all little-endian and length-prefixed:

    request:  u8 op, u32 length, payload
              op 1 create  (payload: the node spec as JSON, see node_host)
              op 2 process (payload: one frame-codec frame)
              op 3 flush   (no payload)
              op 4 cleanup (no payload; the runner exits after answering)
              op 5 cancel  (no payload): stop every call sent before it that has
                           not finished; its answer comes after theirs
    response: u8 status, u32 count, then count x (u32 length, bytes)
              status 0 ok: the output frames; the final answer to a request
              status 1 error: one JSON payload {"type", "message", "traceback"}; final
              status 2 more: output frames made so far; the answer goes on (a node
                       whose process/flush is a generator or an async generator sends
                       each item as it is made, then an empty ok)

Every request gets exactly one final answer (ok or error), in order. A cancelled call
ends with an empty ok (what it made after the cancel is dropped); the cancel's own
answer is one JSON item {"cancelled": n}, n the calls it stopped. Requests are read on
a thread of their own so a cancel is seen while a call runs: it calls the node's
`interrupt()` (if it has one) at once, on a thread of its own — a node blocked in its own
work (a subprocess, a socket) unblocks there — and stops an async call at its next
await and a generator before its next item. The cancel's answer, and so any later
call, waits for that hook (up to HOOK_GRACE_S: a hook that hangs is left behind).

Memory and time limits are the gateway's business (rlimits, kills); a crash is seen
there as the process ending. Standard library only. The op and status numbers are the
gateway's too (remote-gateway/runner-pipe.ts); tests/node/python-protocol-constants.test.ts
checks that both sides agree."""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import struct
import sys
import threading
import traceback
from typing import Any, BinaryIO, List, Optional

from .node_host import HostedNode

OP_CREATE, OP_PROCESS, OP_FLUSH, OP_CLEANUP, OP_CANCEL = 1, 2, 3, 4, 5
STATUS_OK, STATUS_ERROR, STATUS_MORE = 0, 1, 2
REQUEST = struct.Struct("<BI")
RESPONSE = struct.Struct("<BI")
LENGTH = struct.Struct("<I")
# How long a cancel's answer (and so the next call) waits for the node's interrupt()
# hook: a hook only sets flags or stops its subprocesses; one that takes longer is
# the node's bug, left running on its own thread.
HOOK_GRACE_S = 1.0


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


class _Requests:
    """The request pipe, read on a thread of its own into an asyncio queue. A cancel
    is counted and acted on the moment it is read (see the module's docstring); the
    call loop stops a call while `cancels_read` is ahead of the cancels it answered."""

    def __init__(self, stream: BinaryIO, loop: asyncio.AbstractEventLoop) -> None:
        self.queue: "asyncio.Queue[Optional[tuple]]" = asyncio.Queue()
        self.cancels_read = 0
        self.cancels_answered = 0
        self.node: Optional[HostedNode] = None
        self.task: Optional["asyncio.Future[Any]"] = None
        self._hook: Optional[threading.Thread] = None
        self._stream = stream
        self._loop = loop
        threading.Thread(target=self._read, name="node-runner-requests", daemon=True).start()

    @property
    def cancelling(self) -> bool:
        return self.cancels_read > self.cancels_answered

    def _read(self) -> None:
        while True:
            head = _read_exact(self._stream, REQUEST.size)
            request: Optional[tuple] = None
            if head is not None:
                op, length = REQUEST.unpack(head)
                payload = _read_exact(self._stream, length) if length else b""
                if payload is not None:
                    request = (op, payload)
                    if op == OP_CANCEL:
                        self.cancels_read += 1  # one writer (this thread); ints are atomic here
                        self._interrupt()
            self._loop.call_soon_threadsafe(self.queue.put_nowait, request)
            if request is None:
                return  # the gateway closed the pipe (or cut a request short)

    def _interrupt(self) -> None:
        self._loop.call_soon_threadsafe(self._cancel_task)
        node = self.node
        # The hook runs on a thread of its own: one that never returns must not stop this
        # reader (the cancel's answer and every later request would wait for it). While
        # one still runs, a new cancel does not start another: the call stops regardless.
        if node is None or (self._hook is not None and self._hook.is_alive()):
            return
        self._hook = threading.Thread(target=self._run_hook, args=(node,), name="node-interrupt", daemon=True)
        self._hook.start()

    async def hook_settled(self) -> None:
        hook = self._hook
        if hook is not None and hook.is_alive():
            await asyncio.get_running_loop().run_in_executor(None, hook.join, HOOK_GRACE_S)

    @staticmethod
    def _run_hook(node: HostedNode) -> None:
        try:
            node.interrupt()
        except Exception:  # a failing hook is the node's bug; the call still stops
            traceback.print_exc()

    def _cancel_task(self) -> None:
        if self.task is not None and self.cancelling:
            self.task.cancel()


async def _answer(requests: _Requests, stdout: BinaryIO, result: Any) -> None:
    """Writes one call's outputs: all at once for a plain result, item by item (status
    more) for a generator, then the final ok. Stops early when a cancel arrives."""
    if inspect.isawaitable(result):
        result = await result
    if inspect.isasyncgen(result):
        try:
            async for item in result:
                if requests.cancelling:
                    break
                if item is not None:
                    _write(stdout, STATUS_MORE, [HostedNode.encode(item)])
        finally:
            await result.aclose()
    elif inspect.isgenerator(result):
        try:
            for item in result:
                if requests.cancelling:
                    break
                if item is not None:
                    _write(stdout, STATUS_MORE, [HostedNode.encode(item)])
        finally:
            result.close()
    else:
        if not requests.cancelling:
            _write(stdout, STATUS_OK, HostedNode.encode_all(result))
            return
    _write(stdout, STATUS_OK, [])


async def serve(stdin: BinaryIO, stdout: BinaryIO) -> int:
    requests = _Requests(stdin, asyncio.get_running_loop())
    cancelled = 0  # calls stopped since the last cancel was answered
    while True:
        request = await requests.queue.get()
        if request is None:
            return 0  # the gateway closed the pipe
        op, payload = request
        node = requests.node
        try:
            if op == OP_CANCEL:
                # The hook's effect belongs to the calls before this cancel: the next call
                # waits for it (a hook that hangs is left behind after HOOK_GRACE_S).
                await requests.hook_settled()
                requests.cancels_answered += 1
                _write(stdout, STATUS_OK, [json.dumps({"cancelled": cancelled}).encode("utf-8")])
                cancelled = 0
            elif op == OP_CREATE:
                requests.node = HostedNode(payload.decode("utf-8"))
                await requests.node.initialize()
                _write(stdout, STATUS_OK, [])
            elif node is None:
                raise RuntimeError("no node: the first request must create it")
            elif op in (OP_PROCESS, OP_FLUSH):
                if requests.cancelling:
                    cancelled += 1  # cancelled before it started: the node never sees it
                    _write(stdout, STATUS_OK, [])
                    continue
                result = node.process_result(payload) if op == OP_PROCESS else node.flush_result()
                requests.task = asyncio.ensure_future(_answer(requests, stdout, result))
                try:
                    await requests.task
                except asyncio.CancelledError:
                    _write(stdout, STATUS_OK, [])
                finally:
                    requests.task = None
                if requests.cancelling:
                    cancelled += 1
            elif op == OP_CLEANUP:
                await node.cleanup()
                _write(stdout, STATUS_OK, [])
                return 0
            else:
                raise ValueError(f"unknown op {op}")
        except BaseException as error:  # KeyboardInterrupt included: report, keep serving
            if isinstance(error, SystemExit):
                raise
            if op in (OP_PROCESS, OP_FLUSH) and requests.cancelling:
                cancelled += 1  # a call that fails as it is stopped was stopped, not broken
                _write(stdout, STATUS_OK, [])
                continue
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
