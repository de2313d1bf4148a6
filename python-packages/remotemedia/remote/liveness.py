"""Liveness, as the TypeScript client's livenessTimeoutMs (web/runtime/remote/
gateway-connection.ts): the client asks the gateway for a heartbeat on each quiet
quarter of RemoteExecutorConfig.liveness_timeout_s, and a reader that waits on the
socket longer than that with nothing arriving takes the gateway as lost, even while
its connection stays open (a paused process, whose kernel keeps the socket). Under
Pyodide the browser's WebSocket has no ping at all; under CPython websockets' own
keepalive takes about 40 s to notice."""

from __future__ import annotations

import asyncio
import math
from typing import Any, Callable, Dict, Optional

from .protocol import HEARTBEAT_MAX_MS, HEARTBEAT_MIN_MS


def liveness_timeout(value: Any) -> float:
    """RemoteExecutorConfig.liveness_timeout_s checked: 0 (off), or seconds whose
    quarter is a heartbeat interval the protocol allows."""
    low, high = 4 * HEARTBEAT_MIN_MS / 1000, 4 * HEARTBEAT_MAX_MS / 1000
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise TypeError(f"liveness_timeout_s {value!r}: expected 0 (no liveness check) or seconds from {low:g} to {high:g}")
    if value != 0 and not low <= value <= high:
        raise ValueError(f"liveness_timeout_s {value!r}: expected 0 (no liveness check) or seconds from {low:g} to {high:g}")
    return float(value)


def heartbeat_ask(timeout_s: float) -> Dict[str, int]:
    """What `open` and `resume` carry: a heartbeat on each quiet quarter of the deadline."""
    if timeout_s == 0:
        return {}
    return {"heartbeatMs": min(HEARTBEAT_MAX_MS, max(HEARTBEAT_MIN_MS, int(timeout_s * 250)))}


class SilenceWatch:
    """Times the reader's waits on the socket: `waiting_since` is set while it waits
    (two attribute writes per message, nothing else), and a check every quarter of the
    deadline calls `on_silent(seconds)` once a wait is past it; `on_silent` returns
    True when it acted (the watch stops). A check that runs late (the loop was busy,
    and may not have handed over what arrived) starts the wait again rather than judge.
    One per reading stream; stop() it when the reading ends."""

    def __init__(self, timeout_s: float, on_silent: Callable[[float], bool]) -> None:
        self.timeout_s = timeout_s
        self.waiting_since: Optional[float] = None
        self._on_silent = on_silent
        self._period = timeout_s / 4
        self._loop = asyncio.get_running_loop()
        self._last = self._loop.time()
        self._handle: Optional[asyncio.TimerHandle] = self._loop.call_later(self._period, self._check)

    def _check(self) -> None:
        now = self._loop.time()
        late = now - self._last > 2 * self._period
        self._last = now
        since = self.waiting_since
        if since is not None:
            if late:
                self.waiting_since = now
            elif now - since >= self.timeout_s and self._on_silent(now - since):
                self._handle = None
                return
        self._handle = self._loop.call_later(self._period, self._check)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
