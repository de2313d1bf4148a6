"""The gateway client: one WebSocket per proxied object, running it as a PythonNode.

By default an object is sent by reference: a Node of an importable module goes as
"module:Class", one defined elsewhere (a script, a notebook) as its class's source,
with its params either way. `serialization="pickle"` sends its whole state instead,
which a gateway unpickles only when its operator allowed it. The gateway runs it in
CPython."""

from __future__ import annotations

import asyncio
import base64
import inspect
import json
import pickle
import ssl
import struct
import sys
from dataclasses import dataclass
from typing import Any, AsyncIterator, Dict, List, Optional, Tuple

from ..core.node import Node
from ..frame_codec import decode_frame, encode_frame
from ..marshal import from_runtime_data, to_runtime_data

PROTOCOL_VERSION = 2
MORE = 0x8000


class ConnectionLost(ConnectionError):
    """The browser WebSocket (Pyodide) closed; websockets raises ConnectionClosed instead."""


class _BrowserSocket:
    """The few websockets calls this client makes, over the browser's WebSocket: how
    Python in Pyodide reaches a gateway (no sockets of its own there)."""

    def __init__(self, ws: Any) -> None:
        self._ws = ws
        self._inbox: "asyncio.Queue[Any]" = asyncio.Queue()
        self._closed: Optional[str] = None

    @classmethod
    async def connect(cls, url: str) -> "_BrowserSocket":
        import js
        from pyodide.ffi import create_proxy

        if not hasattr(js, "WebSocket"):
            raise ConnectionLost("this JavaScript host has no WebSocket (Node 20); a browser has one")
        ws = js.WebSocket.new(url)
        ws.binaryType = "arraybuffer"
        socket = cls(ws)
        opened = asyncio.get_running_loop().create_future()

        def on_open(_event: Any) -> None:
            if not opened.done():
                opened.set_result(None)

        def on_message(event: Any) -> None:
            data = event.data
            socket._inbox.put_nowait(data if isinstance(data, str) else data.to_bytes())

        def on_close(event: Any) -> None:
            socket._closed = f"the connection closed (code {event.code})"
            socket._inbox.put_nowait(None)
            if not opened.done():
                opened.set_exception(ConnectionLost(f"cannot reach the gateway at {url}"))

        ws.onopen = create_proxy(on_open)
        ws.onmessage = create_proxy(on_message)
        ws.onclose = create_proxy(on_close)
        await opened
        return socket

    async def send(self, message: Any) -> None:
        if self._closed:
            raise ConnectionLost(self._closed)
        if isinstance(message, str):
            self._ws.send(message)
        else:
            from pyodide.ffi import to_js

            self._ws.send(to_js(bytes(message)))

    async def recv(self) -> Any:
        item = await self._inbox.get()
        if item is None:
            self._inbox.put_nowait(None)  # every later recv sees the close too
            raise ConnectionLost(self._closed)
        return item

    async def close(self) -> None:
        self._ws.close()


def _in_pyodide() -> bool:
    return sys.platform == "emscripten"


def _closed_errors() -> tuple:
    if _in_pyodide():
        return (ConnectionLost,)
    import websockets

    return (websockets.exceptions.ConnectionClosed, ConnectionLost)


class RemoteExecutionError(RuntimeError):
    """The gateway refused or ended a session; `kind` and `node_id` as the runtime's errors."""

    def __init__(self, error: Dict[str, Any]) -> None:
        super().__init__(error.get("message", "remote error"))
        self.kind = error.get("kind")
        self.node_id = error.get("nodeId")


@dataclass
class RemoteExecutorConfig:
    host: str = "127.0.0.1"
    port: int = 8765
    ssl_enabled: bool = False
    max_message_size: int = 1 << 20
    reconnect: bool = False
    #: The gateway's token (the original config had none: the gateway requires one).
    token: Optional[str] = None
    #: For ssl_enabled with a private CA or a self-signed certificate.
    ssl_context: Optional[ssl.SSLContext] = None
    #: With reconnect: how long to keep trying to resume a dropped session.
    reconnect_window_s: float = 20.0
    #: How an object travels: "reference" (its class by module path or by source, with
    #: its params) or "pickle" (its whole state; the gateway must be started with
    #: --allow-pickle, and its class must be importable there).
    serialization: str = "reference"

    @property
    def url(self) -> str:
        return f"{'wss' if self.ssl_enabled else 'ws'}://{self.host}:{self.port}/v1"


def node_spec(obj: Node, config: Optional[RemoteExecutorConfig] = None) -> Dict[str, Any]:
    """How the gateway will make `obj`: pickled when the config says so, else its class
    by path or by source, and its params."""
    if config is not None and config.serialization == "pickle":
        return {"pickle": base64.b64encode(pickle.dumps(obj)).decode("ascii")}
    if config is not None and config.serialization != "reference":
        raise ValueError(f"serialization must be 'reference' or 'pickle', not {config.serialization!r}")
    cls = type(obj)
    module = cls.__module__
    if module not in ("__main__", "builtins") and not module.startswith("remotemedia_user"):
        spec: Dict[str, Any] = {"class": f"{module}:{cls.__qualname__}"}
    else:
        spec = {"class": cls.__qualname__, "source": "from remotemedia import Node\n" + inspect.getsource(cls)}
    spec["params"] = obj.params()
    return spec


class RemoteProxy:
    """An object running on the gateway: process() one input, stream() many.

    With `reconnect`, a dropped connection is resumed (protocol v2): what the gateway
    has not acknowledged is kept and resent, repeats are dropped, so every frame
    arrives exactly once each way."""

    ACK_EVERY = 16

    def __init__(self, config: RemoteExecutorConfig) -> None:
        self._config = config
        self._ws: Any = None
        self._session_id = ""
        self._resume_key: Optional[str] = None
        #: Numbered items sent and not yet acknowledged: (seq, messages).
        self._unacked: List[Tuple[int, List[Any]]] = []
        self._sequence = 0
        self._received = 0
        self._live = asyncio.Event()
        self._done = False
        self.resumes = 0

    @classmethod
    async def open(cls, config: RemoteExecutorConfig, obj: Node) -> "RemoteProxy":
        proxy = cls(config)
        spec = node_spec(obj, config)
        manifest = {
            "version": "v1",
            "metadata": {"name": f"proxy {obj.name}"},
            "nodes": [{"id": obj.name, "node_type": "PythonNode", "params": spec}],
            "connections": [],
        }
        reply = await proxy._connect({
            "type": "open", "version": PROTOCOL_VERSION, "token": config.token,
            "island": {"manifest": manifest, "inputs": [{"sources": [obj.name]}], "outputs": [{"sink": obj.name}]},
            "maxMessageSize": config.max_message_size,
            "resume": bool(config.reconnect),
        })
        proxy._session_id = reply["sessionId"]
        proxy._resume_key = reply.get("resumeKey")
        proxy._live.set()
        return proxy

    async def _connect(self, first: Dict[str, Any]) -> Dict[str, Any]:
        config = self._config
        if _in_pyodide():
            # The browser checks TLS itself; an ssl_context has no meaning there.
            ws: Any = await _BrowserSocket.connect(config.url)
        else:
            import websockets

            ssl_arg = config.ssl_context if config.ssl_context is not None else (True if config.ssl_enabled else None)
            ws = await websockets.connect(config.url, ssl=ssl_arg, max_size=config.max_message_size)
        await ws.send(json.dumps(first))
        reply = json.loads(await ws.recv())
        if reply.get("type") not in ("opened", "resumed"):
            await ws.close()
            raise RemoteExecutionError(reply.get("error", {"message": f"unexpected reply {reply}"}))
        self._ws = ws
        return reply

    async def process(self, data: Any) -> Any:
        """One input, its outputs: a single value, a list when the node gave several."""
        await self._send(data)
        await self._end()
        outputs = [out async for out in self._outputs()]
        return outputs[0] if len(outputs) == 1 else outputs

    async def stream(self, inputs: AsyncIterator[Any]) -> AsyncIterator[Any]:
        """Streams inputs to the object and its outputs back as they come."""
        async def feed() -> None:
            async for item in inputs:
                await self._send(item)
            await self._end()

        feeding = asyncio.ensure_future(feed())
        try:
            async for out in self._outputs():
                yield out
            await feeding
        finally:
            feeding.cancel()

    async def close(self) -> None:
        self._done = True
        if self._ws is not None:
            await self._ws.close()

    async def _numbered(self, make) -> None:
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
        room = self._config.max_message_size - 2

        def parts(seq: int) -> List[bytes]:
            frame = encode_frame(to_runtime_data(value), seq)
            return [
                struct.pack("<H", MORE if at + room < len(frame) else 0) + frame[at : at + room]
                for at in range(0, max(len(frame), 1), room)
            ]

        await self._numbered(parts)

    def _take(self, seq: int) -> bool:
        """A numbered item from the gateway: True when new; repeats after a resume are dropped."""
        if seq <= self._received:
            return False
        if seq != self._received + 1:
            raise RemoteExecutionError({"kind": "frame_codec", "message": f"message {seq} arrived after {self._received}"})
        self._received = seq
        return True

    async def _ack(self) -> None:
        if self._resume_key and self._received % self.ACK_EVERY == 0:
            try:
                await self._ws.send(json.dumps({"type": "ack", "seq": self._received}))
            except Exception:
                pass  # the connection dropped: the resume says what arrived

    async def _outputs(self) -> AsyncIterator[Any]:
        closed = _closed_errors()
        parts: List[bytes] = []
        while True:
            try:
                message = await self._ws.recv()
            except closed:
                if not self._resume_key or self._done:
                    raise
                parts = []
                await self._resume()
                continue
            if isinstance(message, bytes):
                (header,) = struct.unpack_from("<H", message)
                parts.append(message[2:])
                if header & MORE:
                    continue
                frame, parts = b"".join(parts), []
                sequence, data = decode_frame(frame)
                if self._take(sequence):
                    await self._ack()
                    yield from_runtime_data(data)
                continue
            control = json.loads(message)
            kind = control.get("type")
            if kind == "ack":
                self._unacked = [(seq, m) for seq, m in self._unacked if seq > control["seq"]]
            elif kind == "error":
                raise RemoteExecutionError(control["error"])
            elif kind == "done" and self._take(control["seq"]):
                return
            elif kind == "end":
                self._take(control["seq"])
            # credit needs no action here: one frame is in flight at a time, or
            # stream()'s feeder is paced by the socket itself.

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

    async def stream(self, inputs: AsyncIterator[Any]) -> AsyncIterator[Any]:
        proxy = await RemoteProxy.open(self._client.config, self._obj)
        try:
            async for out in proxy.stream(inputs):
                yield out
        finally:
            await proxy.close()
