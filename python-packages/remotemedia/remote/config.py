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
    #: With reconnect: how long to keep trying to resume a dropped session.
    reconnect_window_s: float = 20.0
    #: How an object travels: "reference" (its class by module path or by source, with
    #: its params) or "pickle" (its whole state; the gateway must be started with
    #: --allow-pickle, and its class must be importable there).
    serialization: str = "reference"

    @property
    def url(self) -> str:
        return f"{'wss' if self.ssl_enabled else 'ws'}://{self.host}:{self.port}/v1"
