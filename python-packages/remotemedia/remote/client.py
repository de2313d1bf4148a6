"""The gateway client: one gateway session per proxied object (run there as a
PythonNode) or per whole pipeline (remotemedia_runtime's gateway path), speaking
protocol v2: numbered frames and controls, credit, acks and resume. How an object
travels is node_spec.py; how the socket is made, sockets.py."""

from __future__ import annotations

import asyncio
import json
import struct
import time
from typing import Any, AsyncIterable, AsyncIterator, Dict, Iterable, List, Optional, Tuple, Union

from ..core.node import Node
from ..data import RuntimeData
from ..frame_codec import decode_frame, encode_frame
from ..marshal import from_runtime_data, to_runtime_data
from .config import RemoteExecutorConfig
from .errors import RemoteExecutionError, protocol_error, remote_error
from .node_spec import class_source, node_spec
from .protocol import ACK_EVERY, MORE_PARTS, PORT_MASK, PROTOCOL_VERSION, WINDOW
from .sockets import closed_errors, connect

__all__ = ["RemoteExecutionError", "RemoteExecutorConfig", "RemoteProxy", "RemoteProxyClient", "class_source", "node_spec"]

#: What stream() takes: any iterable or async iterable of inputs.
Inputs = Union[Iterable[Any], AsyncIterable[Any]]


async def _items(inputs: Inputs) -> AsyncIterator[Any]:
    if hasattr(inputs, "__aiter__"):
        async for item in inputs:  # type: ignore[union-attr]
            yield item
    else:
        for item in inputs:  # type: ignore[union-attr]
            yield item


def _check_inputs(inputs: Any) -> None:
    if isinstance(inputs, (str, bytes, dict)) or not (hasattr(inputs, "__aiter__") or hasattr(inputs, "__iter__")):
        raise TypeError(
            f"stream() takes an iterable or async iterable of inputs (a list, a generator, an async generator), "
            f"found {type(inputs).__name__}; for one input use process()"
        )


class RemoteProxy:
    """An object running on the gateway: process() one input, stream() many.

    With `reconnect`, a dropped connection is resumed (protocol v2): what the gateway
    has not acknowledged is kept and resent, repeats are dropped, so every frame
    arrives exactly once each way."""

    def __init__(self, config: RemoteExecutorConfig) -> None:
        self._config = config
        self._ws: Any = None
        self._session_id = ""
        self._resume_key: Optional[str] = None
        #: The gateway's name in a fleet (`opened.gateway`): resumes ask the balancer for it.
        self.gateway: Optional[str] = None
        #: Numbered items sent and not yet acknowledged: (seq, messages).
        self._unacked: List[Tuple[int, List[Any]]] = []
        self._sequence = 0
        self._received = 0
        self._live = asyncio.Event()
        self._done = False
        #: Inputs sent on port 0, and the credit granted for them (the gateway allows
        #: WINDOW in flight; it closes a session that sends beyond its credit).
        self._inputs_sent = 0
        self._granted = 0
        self._credit = asyncio.Event()
        self.resumes = 0
        #: One numbered item on the wire at a time: a frame's parts and sequence
        #: numbers stay in order when interrupt() sends beside a running stream().
        self._sending = asyncio.Lock()
        #: The last stamp interrupt() gave (µs): each interrupt its own.
        self._last_interrupt_us = 0

    @classmethod
    async def open(cls, config: RemoteExecutorConfig, obj: Node) -> "RemoteProxy":
        spec = node_spec(obj, config)
        manifest = {
            "version": "v1",
            "metadata": {"name": f"proxy {obj.name}"},
            "nodes": [{"id": obj.name, "node_type": "PythonNode", "params": spec}],
            "connections": [],
            # interrupt() reaches the object's interrupt() hook (and nothing without it).
            "bargeIn": {"to": [obj.name]},
        }
        return await cls.open_island(config, manifest, [obj.name], [obj.name])

    @classmethod
    async def open_island(
        cls, config: RemoteExecutorConfig, manifest: Dict[str, Any], sources: List[str], sinks: List[str]
    ) -> "RemoteProxy":
        """A session running `manifest` on the gateway: port 0 feeds `sources`, and
        the outputs of every sink come back (in the order they arrive)."""
        proxy = cls(config)
        reply = await proxy._connect({
            "type": "open", "version": PROTOCOL_VERSION, "token": config.token,
            "island": {"manifest": manifest, "inputs": [{"sources": sources}], "outputs": [{"sink": s} for s in sinks]},
            "maxMessageSize": config.max_message_size,
            "resume": bool(config.reconnect),
        })
        proxy._session_id = reply["sessionId"]
        proxy._resume_key = reply.get("resumeKey")
        proxy.gateway = reply.get("gateway")
        proxy._live.set()
        return proxy

    async def _connect(self, first: Dict[str, Any]) -> Dict[str, Any]:
        config = self._config
        ws = await connect(config, self.gateway if first["type"] == "resume" else None)
        await ws.send(json.dumps(first))
        try:
            reply = json.loads(await ws.recv())
        except closed_errors() as error:
            raise protocol_error(f"the gateway at {config.url} closed the connection before answering ({error})") from error
        if not isinstance(reply, dict) or reply.get("type") not in ("opened", "resumed"):
            await ws.close()
            error = reply.get("error") if isinstance(reply, dict) else None
            raise remote_error(error if error is not None else {"kind": "protocol", "message": f"unexpected reply {reply}"})
        self._ws = ws
        return reply

    async def process(self, data: Any) -> Any:
        """One input, its outputs: a single value, a list when the node gave several."""
        await self._send(data)
        await self._end()
        outputs = [out async for out in self._outputs()]
        return outputs[0] if len(outputs) == 1 else outputs

    async def stream(self, inputs: Inputs) -> AsyncIterator[Any]:
        """Streams inputs (any iterable or async iterable) to the object and its
        outputs back as they come. An error while feeding — the inputs' own, or one
        sending them — ends the stream and is raised here."""
        _check_inputs(inputs)

        # What broke the feed, kept here rather than left in the task: an event loop
        # (Pyodide's) may report a task's exception as unhandled before we read it.
        feed_error: List[Exception] = []

        async def feed() -> None:
            try:
                async for item in _items(inputs):
                    await self._send(item)
                await self._end()
            except Exception as error:
                feed_error.append(error)
                # The reader is waiting for outputs that will never come: wake it.
                self._done = True
                await self._ws.close()

        feeding = asyncio.ensure_future(feed())
        try:
            try:
                async for out in self._outputs():
                    yield out
            except Exception:
                if feed_error:
                    raise feed_error[0] from None  # the cause, not the close it caused
                raise
            await feeding
            if feed_error:
                raise feed_error[0]
        finally:
            feeding.cancel()

    async def interrupt(self, timestamp_us: Optional[int] = None) -> None:
        """Barge-in, as the TypeScript client's interrupt(): the gateway interrupts the
        session's `bargeIn.to` nodes now (a proxied object's interrupt() hook runs and
        its call in flight is cancelled), ahead of the inputs already sent and still
        queued there, which are then dropped; the interrupt control follows in band,
        behind them (waiting for credit like any input). The stamp names the interrupt
        so that it acts once: give the trigger's time, or one is made (µs, monotonic).
        Any task may call it, during stream() too."""
        if timestamp_us is None:
            timestamp_us = max(time.monotonic_ns() // 1000, self._last_interrupt_us + 1)
        if not isinstance(timestamp_us, int) or isinstance(timestamp_us, bool) or timestamp_us < 0:
            raise TypeError(f"interrupt(timestamp_us) takes a non-negative int of microseconds, found {timestamp_us!r}")
        self._last_interrupt_us = timestamp_us
        await self._send(RuntimeData("control", timestamp_us, signal="interrupt"))

    async def _interrupt_now(self, timestamp_us: Optional[float]) -> None:
        """The gateway's `interrupt` message: unnumbered and outside credit, it
        overtakes what waits there; its frame follows (the same stamp acts once)."""
        if not self._live.is_set():
            return  # the connection is down: the frame, kept for the resume, still acts
        message: Dict[str, Any] = {"type": "interrupt", "port": 0}
        if timestamp_us is not None:
            message["timestampUs"] = timestamp_us
        try:
            await self._ws.send(json.dumps(message))
        except Exception:
            pass  # as above

    async def close(self) -> None:
        self._done = True
        if self._ws is not None:
            await self._ws.close()

    async def _numbered(self, make) -> None:
        async with self._sending:
            self._sequence += 1
            messages = make(self._sequence)
            if self._resume_key:
                self._unacked.append((self._sequence, messages))
            await self._live.wait()
            try:
                for message in messages:
                    await self._ws.send(message)
            except Exception:
                if not self._resume_key:
                    raise
                # Kept in _unacked: resent when the reader resumes the session.

    async def _end(self) -> None:
        await self._numbered(lambda seq: [json.dumps({"type": "end", "port": 0, "seq": seq})])

    async def _send(self, value: Any) -> None:
        if isinstance(value, RuntimeData) and value.kind == "control" and value.signal == "interrupt":
            await self._interrupt_now(value.timestamp_us)  # an interrupt in stream()'s inputs too
        while self._inputs_sent - self._granted >= WINDOW:
            self._credit.clear()
            await self._credit.wait()
        self._inputs_sent += 1
        room = self._config.max_message_size - 2

        def parts(seq: int) -> List[bytes]:
            frame = encode_frame(to_runtime_data(value), seq)
            return [
                struct.pack("<H", MORE_PARTS if at + room < len(frame) else 0) + frame[at : at + room]
                for at in range(0, max(len(frame), 1), room)
            ]

        await self._numbered(parts)

    def _take(self, seq: int) -> bool:
        """A numbered item from the gateway: True when new; repeats after a resume are dropped."""
        if seq <= self._received:
            return False
        if seq != self._received + 1:
            raise protocol_error(f"message {seq} arrived after {self._received}: something between was lost")
        self._received = seq
        return True

    async def _ack(self) -> None:
        if self._resume_key and self._received % ACK_EVERY == 0:
            try:
                await self._ws.send(json.dumps({"type": "ack", "seq": self._received}))
            except Exception:
                pass  # the connection dropped: the resume says what arrived

    async def _outputs(self) -> AsyncIterator[Any]:
        closed = closed_errors()
        parts: Dict[int, List[bytes]] = {}
        while True:
            try:
                message = await self._ws.recv()
            except closed:
                if not self._resume_key or self._done:
                    raise
                parts = {}
                await self._resume()
                continue
            if isinstance(message, bytes):
                if len(message) < 2:
                    raise protocol_error(f"a binary message of {len(message)} bytes has no port header")
                (header,) = struct.unpack_from("<H", message)
                held = parts.setdefault(header & PORT_MASK, [])
                held.append(message[2:])
                if header & MORE_PARTS:
                    continue
                frame = b"".join(held)
                del parts[header & PORT_MASK]
                sequence, data = decode_frame(frame)
                if self._take(sequence):
                    await self._ack()
                    yield from_runtime_data(data)
                continue
            control = json.loads(message)
            kind = control.get("type")
            if kind == "ack":
                self._unacked = [(seq, m) for seq, m in self._unacked if seq > control["seq"]]
            elif kind == "credit":
                self._granted += int(control.get("frames", 0))
                self._credit.set()
            elif kind == "error":
                raise remote_error(control.get("error"))
            elif kind == "done" and self._take(control["seq"]):
                return
            elif kind == "end":
                self._take(control["seq"])
            elif kind == "draining":
                pass  # the gateway shuts down once its sessions end: this one carries on

    async def _resume(self) -> None:
        """Reconnects with backoff until the gateway resumes the session, then resends."""
        self._live.clear()
        deadline = asyncio.get_running_loop().time() + self._config.reconnect_window_s
        delay = 0.05
        while True:
            await asyncio.sleep(delay)
            delay = min(1.0, delay * 2)
            try:
                reply = await self._connect({
                    "type": "resume", "version": PROTOCOL_VERSION, "token": self._config.token,
                    "sessionId": self._session_id, "resumeKey": self._resume_key,
                    "received": self._received, "maxMessageSize": self._config.max_message_size,
                })
                break
            except RemoteExecutionError:
                raise  # the gateway answered: it cannot resume this session
            except OSError:  # refused, unreachable, ConnectionLost
                if asyncio.get_running_loop().time() > deadline:
                    raise
        self._unacked = [(seq, m) for seq, m in self._unacked if seq > reply["received"]]
        taken = reply.get("taken") or [self._granted]
        self._granted = int(taken[0])  # the credit restarts from what the gateway took
        self._credit.set()
        for _, messages in self._unacked:
            for message in messages:
                await self._ws.send(message)
        self.resumes += 1
        self._live.set()


class RemoteProxyClient:
    """`async with RemoteProxyClient(config) as client: remote = await client.create_proxy(obj)`."""

    def __init__(self, config: RemoteExecutorConfig) -> None:
        self.config = config
        self._proxies: List[RemoteProxy] = []

    async def __aenter__(self) -> "RemoteProxyClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        for proxy in self._proxies:
            await proxy.close()

    async def create_proxy(self, obj: Node) -> "_ProxyFactory":
        node_spec(obj, self.config)  # a class that cannot travel fails here, not at first use
        return _ProxyFactory(self, obj)


class _ProxyFactory:
    """What create_proxy returns: each call opens its own gateway session for `obj`."""

    def __init__(self, client: RemoteProxyClient, obj: Node) -> None:
        self._client = client
        self._obj = obj

    async def process(self, data: Any) -> Any:
        proxy = await RemoteProxy.open(self._client.config, self._obj)
        try:
            return await proxy.process(data)
        finally:
            await proxy.close()

    def stream(self, inputs: Inputs) -> AsyncIterator[Any]:
        _check_inputs(inputs)  # at the call, before any connection is made
        return self._stream(inputs)

    async def _stream(self, inputs: Inputs) -> AsyncIterator[Any]:
        proxy = await RemoteProxy.open(self._client.config, self._obj)
        try:
            async for out in proxy.stream(inputs):
                yield out
        finally:
            await proxy.close()
