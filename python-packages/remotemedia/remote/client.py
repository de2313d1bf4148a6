"""The gateway client: one gateway session per proxied object (run there as a
PythonNode) or per whole pipeline (remotemedia_runtime's gateway path), speaking
protocol v2: numbered frames and controls, credit, acks and resume. How an object
travels is node_spec.py; how the socket is made, sockets.py; what a restart on
another gateway reports (restart_on_loss), restart.py."""

from __future__ import annotations

import asyncio
import json
import logging
import struct
import time
from typing import Any, AsyncIterable, AsyncIterator, Callable, Dict, Iterable, List, Optional, Tuple, Union

from ..core.node import Node
from ..data import RuntimeData
from ..frame_codec import decode_frame, encode_frame
from ..marshal import from_runtime_data, to_runtime_data
from .config import RemoteExecutorConfig
from .errors import RemoteExecutionError, protocol_error, remote_error, worker_lost
from .node_spec import class_source, node_spec
from .liveness import SilenceWatch, heartbeat_ask, liveness_timeout
from .protocol import ACK_EVERY, HEARTBEAT_TEXT, MORE_PARTS, PORT_MASK, PROTOCOL_VERSION, WINDOW
from .restart import FrameLedger, RestartedEvent, island_node_ids
from .sockets import ConnectionLost, abort, closed_errors, connect

_log = logging.getLogger("remotemedia.remote")

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
    arrives exactly once each way.

    With `restart_on_loss`, a session whose gateway is lost is opened again through
    the same address and carries on with the next input; `restarts` and
    on_restarted() say which inputs were lost (RestartedEvent). Without it, such a
    loss ends the session with a WorkerLostError naming the session and gateway.

    With `liveness_timeout_s`, a gateway silent that long while a stream waits for
    its output is lost too, though its connection stays open (remote/liveness.py)."""

    def __init__(self, config: RemoteExecutorConfig) -> None:
        self._config = config
        self._liveness_s = liveness_timeout(config.liveness_timeout_s)
        #: The gateway answered the heartbeat request: its silence means it is gone.
        self._beats = False
        #: Why the watch let the connection go, for the error or RestartedEvent.
        self._silence: Optional[str] = None
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
        #: Every restart of this session on another gateway (restart_on_loss), in order.
        self.restarts: List[RestartedEvent] = []
        self._restart_listeners: List[Callable[[RestartedEvent], Any]] = []
        #: What opens the session again on a restart, and the nodes a restart resets.
        self._open_message: Dict[str, Any] = {}
        self._nodes: List[str] = []
        self._frames = FrameLedger(1)
        #: The input's `end` was sent: a restart repeats it to the new gateway.
        self._input_ended = False
        #: Restarts so far: a send that failed knows whether its item was replayed.
        self._epoch = 0

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
        proxy._open_message = {
            "type": "open", "version": PROTOCOL_VERSION, "token": config.token,
            "island": {"manifest": manifest, "inputs": [{"sources": sources}], "outputs": [{"sink": s} for s in sinks]},
            "maxMessageSize": config.max_message_size,
            "resume": bool(config.reconnect),
            **heartbeat_ask(proxy._liveness_s),
        }
        proxy._nodes = island_node_ids(manifest)
        proxy._frames = FrameLedger(len(sinks))
        reply = await proxy._connect(proxy._open_message)
        proxy._opened(reply)
        proxy._live.set()
        return proxy

    def _opened(self, reply: Dict[str, Any]) -> None:
        self._session_id = reply["sessionId"]
        self._resume_key = reply.get("resumeKey")
        self.gateway = reply.get("gateway")
        self._beats = self._liveness_s > 0 and reply.get("heartbeatMs") is not None

    async def _connect(self, first: Dict[str, Any], within_s: Optional[float] = None) -> Dict[str, Any]:
        """A new connection that sends `first` and returns the answer (opened or
        resumed). Given `within_s` (a resume or restart), a gateway that has not
        answered by then is not reached (ConnectionLost, so the caller tries again
        within its window): a stopped gateway's kernel still accepts connections,
        and without it the wait would have no end."""
        if within_s is None:
            return await self._handshake(first)
        try:
            return await asyncio.wait_for(self._handshake(first, upgrade_within(self._config, within_s)), max(within_s, 0.001))
        except asyncio.TimeoutError as error:
            raise ConnectionLost(f"the gateway at {self._config.url} did not answer within {max(within_s, 0):.1f} s") from error

    async def _handshake(self, first: Dict[str, Any], upgrade_s: Optional[float] = None) -> Dict[str, Any]:
        config = self._config
        target = self.gateway if first["type"] == "resume" else None
        if upgrade_s is None:
            ws = await connect(config, target)
        else:
            try:
                ws = await asyncio.wait_for(connect(config, target), upgrade_s)
            except asyncio.TimeoutError as error:
                raise ConnectionLost(
                    f"the gateway at {config.url} did not take the connection (WebSocket upgrade) within {upgrade_s:.1f} s"
                ) from error
        try:
            await ws.send(json.dumps(first))
            text = await ws.recv()
            while text == HEARTBEAT_TEXT:
                # The island is still opening on a gateway that beats: its silence from
                # here on is bounded (not the open's length).
                try:
                    text = await asyncio.wait_for(ws.recv(), self._liveness_s)
                except asyncio.TimeoutError as error:
                    abort(ws, "silent")
                    raise ConnectionLost(
                        f"the gateway at {config.url} went silent for {self._liveness_s:g} s "
                        "(liveness_timeout_s) before answering"
                    ) from error
            reply = json.loads(text)
        except closed_errors() as error:
            # No answer, as when nothing was reached: a resume or restart tries again.
            raise ConnectionLost(f"the gateway at {config.url} closed the connection before answering ({error})") from error
        except asyncio.CancelledError:  # _connect's deadline: let the socket go now
            abort(ws, "cancelled")
            raise
        if not isinstance(reply, dict) or reply.get("type") not in ("opened", "resumed"):
            await ws.close()
            error = reply.get("error") if isinstance(reply, dict) else None
            raise remote_error(error if error is not None else {"kind": "protocol", "message": f"unexpected reply {reply}"})
        self._ws = ws
        return reply

    async def process(self, data: Any) -> Any:
        """One input, its outputs: a single value, a list when the node gave several."""
        # Fed beside the reader, as stream() is: a send that finds the connection gone
        # waits for the reader's resume or restart.
        outputs = [out async for out in self.stream([data])]
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

    def on_restarted(self, listener: Callable[[RestartedEvent], Any]) -> "RemoteProxy":
        """Calls `listener(event)` after each restart on another gateway
        (restart_on_loss), in the reader's task; returns the proxy."""
        self._restart_listeners.append(listener)
        return self

    async def close(self) -> None:
        self._done = True
        if self._ws is not None:
            await self._ws.close()

    async def _numbered(self, make, frame: bool = False, end: bool = False) -> None:
        """Sends one numbered item; a `frame` (an input) also waits for credit. It is
        counted as sent (credit, RestartedEvent's numbers) once written to a live
        connection: an input that waited out a resume or a restart went where the
        session runs now. A write that finds the connection gone holds every later
        item back until the reader has resumed the session (which replays this item
        with what the gateway lacks) or restarted it (a new session: sent again there)."""
        async with self._sending:
            while True:
                while not self._live.is_set() or (frame and self._inputs_sent - self._granted >= WINDOW):
                    if not self._live.is_set():
                        await self._live.wait()
                    else:
                        self._credit.clear()
                        await self._credit.wait()
                ws, epoch = self._ws, self._epoch  # every part to one socket, even if a restart swaps it
                self._sequence += 1
                messages = make(self._sequence)
                if self._resume_key:
                    self._unacked.append((self._sequence, messages))
                try:
                    for message in messages:
                        await ws.send(message)
                except Exception:
                    if not (self._resume_key or self._config.restart_on_loss):
                        raise
                    if ws is self._ws:
                        self._live.clear()  # known gone: wait for the reader's recovery
                    await self._live.wait()
                    if not (self._epoch == epoch and self._resume_key):
                        continue  # restarted: this item never reached a gateway; send it there
                    # resumed: replayed from _unacked
                if end:
                    self._input_ended = True
                if frame:
                    self._inputs_sent += 1
                    self._frames.frame_sent()
                return

    async def _end(self) -> None:
        await self._numbered(lambda seq: [json.dumps({"type": "end", "port": 0, "seq": seq})], end=True)

    async def _send(self, value: Any) -> None:
        if isinstance(value, RuntimeData) and value.kind == "control" and value.signal == "interrupt":
            await self._interrupt_now(value.timestamp_us)  # an interrupt in stream()'s inputs too
        room = self._config.max_message_size - 2

        def parts(seq: int) -> List[bytes]:
            frame = encode_frame(to_runtime_data(value), seq)
            return [
                struct.pack("<H", MORE_PARTS if at + room < len(frame) else 0) + frame[at : at + room]
                for at in range(0, max(len(frame), 1), room)
            ]

        await self._numbered(parts, frame=True)

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

    def _silent(self, seconds: float) -> bool:
        """The watch found the gateway silent past the deadline: let its connection go,
        so the reader recovers as from a drop. Not while it does not beat (restarted
        on an older gateway)."""
        if not self._beats or self._ws is None:
            return False
        self._silence = (
            f"the gateway sent nothing for {seconds:.1f} s (liveness_timeout_s {self._liveness_s:g}): "
            "it is paused, hung or unreachable"
        )
        abort(self._ws, self._silence)
        return True

    async def _outputs(self) -> AsyncIterator[Any]:
        closed = closed_errors()
        parts: Dict[int, List[bytes]] = {}
        loop = asyncio.get_running_loop()
        # Only while this reader waits on the socket: nothing judges a session no one reads.
        watch = SilenceWatch(self._liveness_s, self._silent) if self._liveness_s > 0 else None
        try:
            while True:
                message = await self._next_message(closed, watch, loop)
                if message is HEARTBEAT_TEXT:
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
                        self._frames.output(header & PORT_MASK)
                        await self._ack()
                        yield from_runtime_data(data)
                    continue
                if message is None:  # recovered: parts of a frame from the old connection are void
                    parts = {}
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
        finally:
            if watch is not None:
                watch.stop()

    async def _next_message(self, closed: tuple, watch: Optional[SilenceWatch], loop: Any) -> Any:
        """The next message of the session's connection (HEARTBEAT_TEXT itself for a
        heartbeat), or None after a drop it recovered from (resumed or restarted)."""
        try:
            if watch is not None:
                watch.waiting_since = loop.time()
            message = await self._ws.recv()
        except closed as error:
            if self._done:
                raise
            if self._silence is not None:  # the watch let it go: say why
                error, self._silence = ConnectionLost(self._silence), None
            await self._recover(error)
            return None
        finally:
            if watch is not None:
                watch.waiting_since = None
        return HEARTBEAT_TEXT if message == HEARTBEAT_TEXT else message

    def _where(self) -> str:
        gateway = f" on gateway {self.gateway}" if self.gateway else ""
        return f"session {self._session_id}{gateway} at {self._config.url}"

    async def _recover(self, closed: Exception) -> None:
        """The connection dropped mid-session: resume it (reconnect); a session that
        cannot be resumed is lost — restarted elsewhere with restart_on_loss, else
        ended with the error that says so."""
        lost: Exception = worker_lost(f"the gateway connection closed ({closed}) before the session ended ({self._where()})")
        if self._resume_key:
            try:
                await self._resume()
                return
            except RemoteExecutionError as error:  # it cannot resume, or the balancer says it is gone
                lost = error
            except OSError as error:  # no answer within the reconnect window
                lost = worker_lost(
                    f"the gateway connection closed ({closed}), and resuming ({self._where()}) did not succeed "
                    f"within {self._config.reconnect_window_s} s ({error})"
                )
        if not self._config.restart_on_loss:
            raise lost
        await self._restart(lost)

    async def _restart(self, lost: Exception) -> None:
        """The session is lost with its gateway: open it again through the same
        address (a balancer picks a live gateway), carry on with the next input, and
        say what was lost. Raises WorkerLostError when it cannot."""
        config = self._config
        if len(self.restarts) >= config.max_restarts:
            raise worker_lost(
                f"{lost}; not restarted: this session was restarted {len(self.restarts)} times already "
                f"(max_restarts {config.max_restarts})"
            ) from lost
        self._live.clear()
        lost_gateway, lost_session = self.gateway, self._session_id
        loop = asyncio.get_running_loop()
        deadline = loop.time() + config.reconnect_window_s
        delay = 0.05
        while True:
            # A new session: numbering, credit and what the old gateway owed start again.
            self._sequence = self._received = self._inputs_sent = self._granted = 0
            self._unacked = []
            self._resume_key = None
            self.gateway = None
            try:
                reply = await self._connect(self._open_message, within_s=deadline - loop.time())
                break
            except RemoteExecutionError as error:
                raise worker_lost(f"{lost}; restarting the session failed: {error}") from error
            except OSError as error:  # nothing answered: try again within the window
                if loop.time() > deadline:
                    raise worker_lost(
                        f"{lost}; restarting the session found no gateway at {config.url} "
                        f"within {config.reconnect_window_s} s ({error})"
                    ) from error
            await asyncio.sleep(delay)
            delay = min(1.0, delay * 2)
        self._opened(reply)
        # Taken now, not at the loss: a write to the old socket under way then has ended.
        accounts = self._frames.lost_frames()
        self._frames.moved()
        self._epoch += 1
        event = RestartedEvent(
            reason=str(lost), lost_gateway=lost_gateway, lost_session_id=lost_session,
            gateway=self.gateway, session_id=self._session_id, nodes_reset=list(self._nodes),
            restarts=len(self.restarts) + 1, **accounts,
        )
        if self._input_ended:  # what the application already ended stays ended
            self._sequence += 1
            message = json.dumps({"type": "end", "port": 0, "seq": self._sequence})
            if self._resume_key:
                self._unacked.append((self._sequence, [message]))
            await self._ws.send(message)
        self.restarts.append(event)
        _log.warning(
            "gateway session %s%s lost (%s): restarted as %s%s, inputs lost: %s",
            lost_session, f" on {lost_gateway}" if lost_gateway else "", lost,
            self._session_id, f" on {self.gateway}" if self.gateway else "", event.lost[0]["frames"],
        )
        for listener in self._restart_listeners:
            try:
                listener(event)
            except Exception:  # the listener's bug, not a reason to end the session
                _log.exception("a restarted listener failed")
        self._credit.set()
        self._live.set()

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
                    **heartbeat_ask(self._liveness_s),
                }, within_s=deadline - asyncio.get_running_loop().time())
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


def upgrade_within(config: RemoteExecutorConfig, within_s: float) -> float:
    """How long one resume or restart attempt waits for the WebSocket upgrade: a quarter
    of the reconnect window (at least 1 s), never past it. A live gateway answers the
    upgrade at once, even one slow to open its island (whose beats then bound the
    open); a stopped one behind a balancer never does, while its kernel still takes
    the TCP connection. With the whole window for one attempt, a restart that the
    balancer sent to the stopped gateway (least_conn: it holds no connections once
    its sessions left) waited out the window and failed, where the next attempt would
    have reached a live gateway (python-restart.test.ts's SIGSTOP case)."""
    return max(0.001, min(within_s, max(1.0, config.reconnect_window_s / 4)))


class RemoteProxyClient:
    """`async with RemoteProxyClient(config) as client: remote = await client.create_proxy(obj)`.

    With `config.restart_on_loss`, `on_restarted(event)` is called after each restart
    of one of its sessions on another gateway, and `restarts` lists them in order."""

    def __init__(
        self, config: RemoteExecutorConfig, on_restarted: Optional[Callable[[RestartedEvent], Any]] = None
    ) -> None:
        self.config = config
        self._proxies: List[RemoteProxy] = []
        self.restarts: List[RestartedEvent] = []
        self._on_restarted = on_restarted

    def _restarted(self, event: RestartedEvent) -> None:
        self.restarts.append(event)
        if self._on_restarted is not None:
            self._on_restarted(event)

    async def _open(self, obj: Node) -> RemoteProxy:
        return (await RemoteProxy.open(self.config, obj)).on_restarted(self._restarted)

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
        proxy = await self._client._open(self._obj)
        try:
            return await proxy.process(data)
        finally:
            await proxy.close()

    def stream(self, inputs: Inputs) -> AsyncIterator[Any]:
        _check_inputs(inputs)  # at the call, before any connection is made
        return self._stream(inputs)

    async def _stream(self, inputs: Inputs) -> AsyncIterator[Any]:
        proxy = await self._client._open(self._obj)
        try:
            async for out in proxy.stream(inputs):
                yield out
        finally:
            await proxy.close()
