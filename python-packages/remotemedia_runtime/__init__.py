"""The runtime bridge, as the original's FFI module `remotemedia_runtime`:
execute_pipeline(manifest_json), execute_pipeline_with_input(manifest_json, inputs),
get_runtime_version(), is_available().

Inside Pyodide the runtime is the TypeScript core running beside the interpreter:
the worker registers it as the JS module `_remotemedia_js` and the calls are
awaited across. Inputs and outputs cross as frame-codec bytes. Under CPython there
is no runtime in-process: is_available() is False and Pipeline falls back."""

from __future__ import annotations

from typing import Any, List, Optional

import json

from remotemedia.frame_codec import decode_frame, encode_frame, json_text
from remotemedia.marshal import from_runtime_data, to_runtime_data

__version__ = "0.1.0"


def _js() -> Optional[Any]:
    try:
        import _remotemedia_js  # registered by the Python worker (pyodide.registerJsModule)
    except ImportError:
        return None
    return _remotemedia_js


def is_available() -> bool:
    return _js() is not None


def unavailable_reason() -> str:
    return "no RemoteMedia runtime in this interpreter (CPython: run in Pyodide, or through the gateway)"


def get_runtime_version() -> str:
    js = _require()
    return str(js.version())


_node_types: Optional[List[str]] = None


def node_types() -> List[str]:
    """Every node_type the runtime knows (they do not change while it runs)."""
    global _node_types
    if _node_types is None:
        _node_types = list(_require().nodeTypes().to_py())
    return _node_types


async def execute_pipeline(manifest_json: str) -> List[Any]:
    return await execute_pipeline_with_input(manifest_json, [])


async def execute_pipeline_with_input(manifest_json: str, inputs: List[Any]) -> List[Any]:
    js = _require()
    from pyodide.ffi import to_js

    if all(_is_plain(v) for v in inputs):
        # Plain values cross as one JSON text each way: far cheaper than frames.
        outputs = js.executeJson(manifest_json, json_text(inputs))
    else:
        outputs = js.execute(manifest_json, to_js([encode_frame(to_runtime_data(v)) for v in inputs]))
    # Pipelines of synchronous nodes answer at once; others with a promise.
    if hasattr(outputs, "then"):
        outputs = await outputs
    if isinstance(outputs, str):
        return json.loads(outputs)
    return [from_runtime_data(decode_frame(frame.to_py())[1]) for frame in outputs]


def _is_plain(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str, list, dict))


def _require() -> Any:
    js = _js()
    if js is None:
        raise RuntimeError(unavailable_reason())
    return js
