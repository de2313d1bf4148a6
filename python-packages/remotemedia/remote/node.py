"""RemoteObjectExecutionNode: a pipeline node whose work is done by another Node
object on the gateway, as in the original SDK. Each input runs in its own gateway
session, which is what delimits that input's outputs (a session per input costs a
connection and a spare CPython process; streaming many inputs through one object is
RemoteProxy.stream)."""

from __future__ import annotations

from typing import Any, Dict, Optional

from ..core.node import Node
from .client import RemoteExecutorConfig, RemoteProxy, node_spec


class RemoteObjectExecutionNode(Node):
    def __init__(
        self,
        obj_to_execute: Node,
        remote_config: RemoteExecutorConfig,
        name: Optional[str] = None,
        node_config: Optional[Dict[str, Any]] = None,
        **config: Any,
    ) -> None:
        super().__init__(name or f"remote_{obj_to_execute.name}", **config)
        node_spec(obj_to_execute, remote_config)  # an object that cannot travel fails here, not per input
        self.obj_to_execute = obj_to_execute
        self.remote_config = remote_config
        self.node_config = node_config or {}

    async def process(self, data: Any) -> Any:
        proxy = await RemoteProxy.open(self.remote_config, self.obj_to_execute)
        try:
            return await proxy.process(data)
        finally:
            await proxy.close()
