"""remotemedia: build media/ML pipelines in Python; run them on the RemoteMedia
runtime (in Pyodide, the TypeScript core beside it) or on the pure-Python executor."""

from .core.node import Node
from .core.pipeline import Pipeline
from .data import InvalidData, RuntimeData
from .frame_codec import FrameCodecError, decode_frame, encode_frame
from .marshal import from_runtime_data, to_runtime_data
from .nodes import CalculatorNode, PassThroughNode

__version__ = "0.1.0"

#: The original SDK imported these from the top (`from remotemedia import Pipeline,
#: RemoteExecutorConfig, RemoteObjectExecutionNode`); loaded on first use, so that
#: `import remotemedia` does not load the gateway client.
_REMOTE = ("RemoteExecutorConfig", "RemoteObjectExecutionNode", "RemoteProxyClient")


def __getattr__(name: str):
    if name in _REMOTE:
        from . import remote

        return getattr(remote, name)
    raise AttributeError(f"module 'remotemedia' has no attribute {name!r}")


__all__ = [
    "CalculatorNode",
    "FrameCodecError",
    "InvalidData",
    "Node",
    "PassThroughNode",
    "Pipeline",
    "RemoteExecutorConfig",
    "RemoteObjectExecutionNode",
    "RemoteProxyClient",
    "RuntimeData",
    "decode_frame",
    "encode_frame",
    "from_runtime_data",
    "to_runtime_data",
]
