"""Remote execution from Python, as in the original SDK: RemoteExecutorConfig,
RemoteProxyClient (create_proxy(obj) -> process/stream on the gateway) and
RemoteObjectExecutionNode for pipelines. Speaks the gateway protocol v2
(web/core/gateway-protocol.ts) with Debian's python3-websockets under CPython and the
browser's WebSocket under Pyodide."""

from .client import RemoteExecutorConfig, RemoteProxy, RemoteProxyClient
from .errors import LimitError, ProtocolError, RemoteExecutionError, UnauthorizedError, WorkerLostError
from .node import RemoteObjectExecutionNode
from .restart import RestartedEvent

__all__ = [
    "LimitError",
    "ProtocolError",
    "RemoteExecutionError",
    "RemoteExecutorConfig",
    "RemoteObjectExecutionNode",
    "RemoteProxy",
    "RemoteProxyClient",
    "RestartedEvent",
    "UnauthorizedError",
    "WorkerLostError",
]
