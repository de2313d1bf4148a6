"""The runtime bridge, as the original's FFI module `remotemedia_runtime`:
execute_pipeline(manifest_json), execute_pipeline_with_input(manifest_json, inputs),
get_runtime_version(), is_available().

Where the runtime is:
- inside Pyodide, the TypeScript core running beside the interpreter: the worker
  registers it as the JS module `_remotemedia_js` and the calls are awaited across
  (inputs and outputs cross as frame-codec bytes, or one JSON text);
- under CPython, a gateway the user names: REMOTEMEDIA_GATEWAY_URL (ws://host:port or
  wss://…) and REMOTEMEDIA_GATEWAY_TOKEN. The manifest runs there, over the same
  client as remotemedia.remote (websockets needed: the `remote` extra);
- otherwise nowhere: is_available() is False, unavailable_reason() says what to set,
  and Pipeline.run takes the pure-Python executor."""

from __future__ import annotations

import json
import os
from typing import Any, List, Optional
from urllib.parse import urlsplit

from remotemedia.frame_codec import decode_frame, encode_frame, json_text
from remotemedia.marshal import from_runtime_data, to_runtime_data

__version__ = "0.1.0"

GATEWAY_URL_VARIABLE = "REMOTEMEDIA_GATEWAY_URL"
GATEWAY_TOKEN_VARIABLE = "REMOTEMEDIA_GATEWAY_TOKEN"


def _js() -> Optional[Any]:
    try:
        import _remotemedia_js  # registered by the Python worker (pyodide.registerJsModule)
    except ImportError:
        return None
    return _remotemedia_js


def _gateway_url() -> Optional[str]:
    return os.environ.get(GATEWAY_URL_VARIABLE) or None


def is_available() -> bool:
    return _js() is not None or _gateway_url() is not None


def where() -> str:
    """Where pipelines run: "pyodide", "gateway <url>", or "nowhere"."""
    if _js() is not None:
        return "pyodide"
    url = _gateway_url()
    return f"gateway {url}" if url else "nowhere"


def unavailable_reason() -> str:
    return (
        "no RemoteMedia runtime in this interpreter: under CPython set "
        f"{GATEWAY_URL_VARIABLE} (ws://host:port) and {GATEWAY_TOKEN_VARIABLE} to run pipelines on a gateway; "
        "in Pyodide the runtime is the TypeScript core beside it"
    )


def get_runtime_version() -> str:
    js = _js()
    if js is not None:
        return str(js.version())
    _require_gateway()
    return __version__


_node_types: Optional[List[str]] = None


def node_types() -> Optional[List[str]]:
    """Every node_type the runtime knows (they do not change while it runs); None
    for a gateway, which says which it does not know when asked to run them."""
    global _node_types
    js = _js()
    if js is None:
        _require_gateway()
        return None
    if _node_types is None:
        _node_types = list(js.nodeTypes().to_py())
    return _node_types


async def execute_pipeline(manifest_json: str) -> List[Any]:
    return await execute_pipeline_with_input(manifest_json, [])


async def execute_pipeline_with_input(manifest_json: str, inputs: List[Any]) -> List[Any]:
    js = _js()
    if js is None:
        return await _execute_on_gateway(manifest_json, list(inputs))
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


async def _execute_on_gateway(manifest_json: str, inputs: List[Any]) -> List[Any]:
    from remotemedia.remote.client import RemoteProxy

    config = _require_gateway()
    try:
        manifest = json.loads(manifest_json)
        ids = [node["id"] for node in manifest["nodes"]]
        edges = [(c["from"], c["to"]) for c in manifest.get("connections", [])]
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"execute_pipeline: the manifest is not a v1 manifest with nodes[].id ({error})") from error
    # The whole pipeline is one island: its input feeds every node nothing feeds,
    # and every node that feeds nothing is an output.
    sources = [n for n in ids if all(to != n for _, to in edges)]
    sinks = [n for n in ids if all(frm != n for frm, _ in edges)]
    proxy = await RemoteProxy.open_island(config, manifest, sources, sinks)
    try:
        return [out async for out in proxy.stream(inputs)]
    finally:
        await proxy.close()


def _require_gateway() -> Any:
    url = _gateway_url()
    if url is None:
        raise RuntimeError(unavailable_reason())
    from remotemedia.remote.client import RemoteExecutorConfig

    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.hostname or parts.path not in ("", "/", "/v1"):
        raise ValueError(f"{GATEWAY_URL_VARIABLE} must be ws://host:port or wss://host:port, found {url!r}")
    secure = parts.scheme == "wss"
    return RemoteExecutorConfig(
        host=parts.hostname,
        port=parts.port or (443 if secure else 80),
        ssl_enabled=secure,
        token=os.environ.get(GATEWAY_TOKEN_VARIABLE),
    )


def _is_plain(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str, list, dict))
