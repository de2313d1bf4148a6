"""RemoteExecutorConfig: where the gateway is and how to talk to it, with the
original SDK's fields (host, port, ssl_enabled, max_message_size, reconnect) and
what this gateway adds (token, serialization, ...)."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Optional


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
    #: With reconnect: how long to keep trying to resume a dropped session (and, with
    #: restart_on_loss, to find a gateway that opens it again).
    reconnect_window_s: float = 20.0
    #: When the session's gateway is lost (it died, or its session cannot be resumed;
    #: without reconnect, any dropped connection), open the session again through the
    #: same address — behind a balancer, on another gateway — and carry on with the
    #: next input, reporting what was lost (remote/restart.py RestartedEvent), instead
    #: of ending with a WorkerLostError. Off by default: a restart loses node state and
    #: in-flight inputs, which only the application can judge acceptable.
    restart_on_loss: bool = False
    #: Restarts allowed in one session before a loss ends it.
    max_restarts: int = 3
    #: Silence from the gateway longer than this (seconds) while a stream waits for
    #: output is a lost gateway, even while its connection stays open (a paused
    #: process): the client asks for a heartbeat on each quiet quarter of it
    #: (remote/liveness.py). Resumed, restarted (restart_on_loss) or a WorkerLostError,
    #: as a dropped connection. 0 turns it off; gateways that do not answer the
    #: request are not checked. As the TypeScript client's livenessTimeoutMs.
    liveness_timeout_s: float = 8.0
    #: How an object travels: "reference" (its class by module path or by source, with
    #: its params) or "pickle" (its whole state; the gateway must be started with
    #: --allow-pickle, and its class must be importable there).
    serialization: str = "reference"

    @property
    def url(self) -> str:
        return f"{'wss' if self.ssl_enabled else 'ws'}://{self.host}:{self.port}/v1"
