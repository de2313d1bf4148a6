"""Node types the runtime runs and this package does not: they serialize to the
manifest with their params (so Pipeline.run takes them to the runtime), and on the
pure-Python executor they fail at once with NoPythonImplementation, saying why and
where they run."""

from __future__ import annotations

from typing import Any, Optional

from ...core.errors import NoPythonImplementation
from ...core.node import Node


class RuntimeOnlyNode(Node):
    #: Why there is no Python implementation (said in the error).
    WHY = ""

    def __init__(self, name: Optional[str] = None, **params: Any) -> None:
        super().__init__(name, **params)

    def initialize(self) -> None:
        raise NoPythonImplementation(self.name, self.node_type, self.WHY)

    def process(self, data: Any) -> Any:
        raise NoPythonImplementation(self.name, self.node_type, self.WHY)


class SileroVAD(RuntimeOnlyNode):
    """Silero speech detection (web/nodes/silero-vad.ts: onnxruntime with the Silero
    model the web runtime ships). Params as there: threshold, redemption_ms, ..."""

    WHY = "it runs the Silero ONNX model through onnxruntime-web, which only the web runtime ships"

