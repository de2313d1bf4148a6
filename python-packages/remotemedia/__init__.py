"""remotemedia: build media/ML pipelines in Python; run them on the RemoteMedia
runtime (in Pyodide, the TypeScript core beside it) or on the pure-Python executor."""

from .core.node import Node
from .core.pipeline import Pipeline
from .data import InvalidData, RuntimeData
from .frame_codec import FrameCodecError, decode_frame, encode_frame
from .marshal import from_runtime_data, to_runtime_data
from .nodes import CalculatorNode, PassThroughNode

__version__ = "0.1.0"

__all__ = [
    "CalculatorNode",
    "FrameCodecError",
    "InvalidData",
    "Node",
    "PassThroughNode",
    "Pipeline",
    "RuntimeData",
    "decode_frame",
    "encode_frame",
    "from_runtime_data",
    "to_runtime_data",
]
