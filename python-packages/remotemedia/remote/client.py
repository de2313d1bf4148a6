"""The gateway client: one WebSocket per proxied object, running it as a PythonNode.

An object is sent by reference, never pickled: a Node of an importable module goes
as "module:Class", one defined elsewhere (a script, a notebook) as its class's
source, with its params either way. The gateway runs it in CPython."""

from __future__ import annotations

import asyncio
import inspect
import json
import ssl
import struct
from dataclasses import dataclass
from typing import Any, AsyncIterator, Dict, List, Optional

from ..core.node import Node
from ..frame_codec import decode_frame, encode_frame
from ..marshal import from_runtime_data, to_runtime_data

PROTOCOL_VERSION = 1
MORE = 0x8000


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

    @property
    def url(self) -> str:
        return f"{'wss' if self.ssl_enabled else 'ws'}://{self.host}:{self.port}/v1"


def node_spec(obj: Node) -> Dict[str, Any]:
    """How the gateway will make `obj`: its class by path or by source, and its params."""
    cls = type(obj)
    module = cls.__module__
    if module not in ("__main__", "builtins") and not module.startswith("remotemedia_user"):
        spec: Dict[str, Any] = {"class": f"{module}:{cls.__qualname__}"}
    else:
        spec = {"class": cls.__qualname__, "source": "from remotemedia import Node\n" + inspect.getsource(cls)}
    spec["params"] = obj.params()
    return spec


class RemoteProxy:
    """An object running on the gateway: process() one input, stream() many."""

    def __init__(self, connection: Any, config: RemoteExecutorConfig) -> None:
        self._ws = connection
        self._config = config
        self._in_flight = 0
        self._done = False

    @classmethod
    async def open(cls, config: RemoteExecutorConfig, obj: Node) -> "RemoteProxy":
        import websockets

        ssl_arg = config.ssl_context if config.ssl_context is not None else (True if config.ssl_enabled else None)
        ws = await websockets.connect(config.url, ssl=ssl_arg, max_size=config.max_message_size)
        spec = node_spec(obj)
        manifest = {
            "version": "v1",
            "metadata": {"name": f"proxy {obj.name}"},
            "nodes": [{"id": obj.name, "node_type": "PythonNode", "params": spec}],
            "connections": [],
        }
        await ws.send(json.dumps({
            "type": "open", "version": PROTOCOL_VERSION, "token": config.token,
            "island": {"manifest": manifest, "inputs": [{"sources": [obj.name]}], "outputs": [{"sink": obj.name}]},
            "maxMessageSize": config.max_message_size,
        }))
        reply = json.loads(await ws.recv())
        if reply.get("type") != "opened":
            await ws.close()
            raise RemoteExecutionError(reply.get("error", {"message": f"unexpected reply {reply}"}))
        return cls(ws, config)

    async def process(self, data: Any) -> Any:
        """One input, its outputs: a single value, a list when the node gave several."""
        await self._send(data)
        await self._ws.send(json.dumps({"type": "end", "port": 0}))
        outputs = [out async for out in self._outputs()]
        return outputs[0] if len(outputs) == 1 else outputs

    async def stream(self, inputs: AsyncIterator[Any]) -> AsyncIterator[Any]:
        """Streams inputs to the object and its outputs back as they come."""
        async def feed() -> None:
            async for item in inputs:
                await self._send(item)
            await self._ws.send(json.dumps({"type": "end", "port": 0}))

        feeding = asyncio.ensure_future(feed())
        try:
            async for out in self._outputs():
                yield out
            await feeding
        finally:
            feeding.cancel()

    async def close(self) -> None:
        await self._ws.close()

    async def _send(self, value: Any) -> None:
        frame = encode_frame(to_runtime_data(value))
        room = self._config.max_message_size - 2
        for at in range(0, max(len(frame), 1), room):
            more = at + room < len(frame)
            await self._ws.send(struct.pack("<H", MORE if more else 0) + frame[at : at + room])

    async def _outputs(self) -> AsyncIterator[Any]:
        parts: List[bytes] = []
        while True:
            message = await self._ws.recv()
            if isinstance(message, bytes):
                (header,) = struct.unpack_from("<H", message)
                parts.append(message[2:])
                if header & MORE:
                    continue
                frame, parts = b"".join(parts), []
                yield from_runtime_data(decode_frame(frame)[1])
                continue
            control = json.loads(message)
            kind = control.get("type")
            if kind == "error":
                raise RemoteExecutionError(control["error"])
            if kind in ("done",):
                return
            # credit and end need no action here: one frame is in flight at a time,
            # or stream()'s feeder is paced by the socket itself.


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
