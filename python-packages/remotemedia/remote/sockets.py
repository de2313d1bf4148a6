"""How the client reaches a gateway: Debian's websockets under CPython, the
browser's WebSocket under Pyodide (which has no sockets of its own), behind the
same four calls (connect, send, recv, close)."""

from __future__ import annotations

import asyncio
import sys
from typing import Any, Optional
from urllib.parse import quote

from .config import RemoteExecutorConfig


class ConnectionLost(ConnectionError):
    """The browser WebSocket (Pyodide) closed; websockets raises ConnectionClosed instead."""


class BrowserSocket:
    """The few websockets calls this client makes, over the browser's WebSocket: how
    Python in Pyodide reaches a gateway (no sockets of its own there)."""

    def __init__(self, ws: Any) -> None:
        self._ws = ws
        self._inbox: "asyncio.Queue[Any]" = asyncio.Queue()
        self._closed: Optional[str] = None

    @classmethod
    async def connect(cls, url: str) -> "BrowserSocket":
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
        try:
            await opened
        except asyncio.CancelledError:  # the caller's deadline: let the connection go
            ws.close()
            raise
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

    def abort(self, reason: str) -> None:
        """Gone now: recv() and send() raise ConnectionLost(reason) at once. The
        browser's close() waits for the peer's close frame, which a paused gateway
        never sends, and its close event with it."""
        if not self._closed:
            self._closed = reason
            self._inbox.put_nowait(None)
        self._ws.close()


def abort(ws: Any, reason: str) -> None:
    """Lets go of a connection at once, with no closing handshake (a silent peer
    never answers one): its reader sees it closed."""
    if isinstance(ws, BrowserSocket):
        ws.abort(reason)
        return
    transport = getattr(ws, "transport", None)
    if transport is not None:
        transport.abort()


def in_pyodide() -> bool:
    return sys.platform == "emscripten"


def closed_errors() -> tuple:
    if in_pyodide():
        return (ConnectionLost,)
    import websockets

    return (websockets.exceptions.ConnectionClosed, ConnectionLost)


async def connect(config: RemoteExecutorConfig, gateway: Optional[str] = None) -> Any:
    """An open connection to the gateway of `config`; with `gateway` (the name a fleet's
    gateway sent in `opened`), `?gateway=<name>`, so a balancer in front of several
    gateways routes a resume to the one holding the session
    (remote-gateway/deploy/nginx.conf), as the TypeScript client does."""
    url = config.url if gateway is None else f"{config.url}?gateway={quote(gateway, safe='')}"
    if in_pyodide():
        # The browser checks TLS itself; an ssl_context has no meaning there.
        return await BrowserSocket.connect(url)
    import websockets

    ssl_arg = config.ssl_context if config.ssl_context is not None else (True if config.ssl_enabled else None)
    try:
        return await websockets.connect(url, ssl=ssl_arg, max_size=config.max_message_size)
    except OSError as error:  # refused, unreachable, reset: still an OSError, so a resume retries
        raise ConnectionLost(f"cannot reach the gateway at {url} ({error})") from error
    except websockets.exceptions.InvalidHandshake as error:
        raise _refusal(url, error, gateway) from error


def _refusal(url: str, error: Exception, gateway: Optional[str] = None) -> Exception:
    """An HTTP answer instead of a WebSocket: the gateway refused before any session."""
    from .errors import remote_error

    status = getattr(error, "status_code", None) or getattr(getattr(error, "response", None), "status_code", None)
    if gateway is not None and status in (502, 504):
        # A balancer's answer for a named gateway it cannot reach: that gateway is gone.
        return remote_error({
            "kind": "worker_lost",
            "message": f"the balancer at {url} cannot reach gateway {gateway} (HTTP {status}): it is gone, and its sessions with it",
        })
    kind = {401: "unauthorized", 403: "unauthorized", 429: "limit", 503: "limit"}.get(status, "protocol")
    return remote_error({"kind": kind, "message": f"the gateway at {url} refused the connection ({error})"})
