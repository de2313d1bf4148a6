"""Hosts one Python node for a runtime: the Pyodide worker (and, later, the
gateway's CPython runner) create it from a spec, then feed it frame-codec bytes.

A spec names the node's class — "module:Class", or a class name defined by inline
`source` (what the demo's editor sends) — and its params; or it holds a pickled
Node (only where REMOTEMEDIA_ALLOW_PICKLE=1). Outputs go back as frame
bytes, so audio crosses as one buffer, never per sample."""

from __future__ import annotations

import base64
import importlib
import inspect
import json
import os
import pickle
import sys
from typing import Any, Dict, List, Optional

from .core.node import Node, outputs_of
from .frame_codec import decode_frame, encode_frame
from .marshal import from_runtime_data, to_runtime_data


class NodeSpecError(ValueError):
    """A spec that does not name a usable Node class; says what would be valid."""


class Interrupted(BaseException):
    """Raised inside a running call that barge-in cancelled (see install_barge_in).
    A BaseException, like KeyboardInterrupt: a node's `except Exception` lets it pass."""


#: The signal the page writes into Pyodide's interrupt buffer for barge-in (SIGUSR1;
#: SIGINT, 2, stays the deadline's KeyboardInterrupt). web/python/python-control.ts.
BARGE_IN_SIGNAL = 10


def install_barge_in(check: Any) -> None:
    """Pyodide: on BARGE_IN_SIGNAL, asks `check()` (the worker's JavaScript, which
    interrupts the island the page named) whether the running call was among those
    interrupted, and if so raises Interrupted in it, wherever it is."""
    import signal

    def on_signal(_signum: int, _frame: Any) -> None:
        if check():
            raise Interrupted()

    signal.signal(BARGE_IN_SIGNAL, on_signal)


def _load_class(spec: Dict[str, Any]) -> type:
    source: Optional[str] = spec.get("source")
    class_name: Optional[str] = spec.get("class")
    if source is not None:
        namespace: Dict[str, Any] = {"__name__": "remotemedia_user_node"}
        exec(compile(source, "<node source>", "exec"), namespace)
        candidates = [
            v for k, v in namespace.items()
            if isinstance(v, type) and issubclass(v, Node) and v.__module__ == "remotemedia_user_node"
        ]
        if class_name:
            found = namespace.get(class_name)
            if not (isinstance(found, type) and issubclass(found, Node)):
                raise NodeSpecError(f"the source defines no Node subclass named {class_name!r}")
            return found
        if len(candidates) != 1:
            names = ", ".join(c.__name__ for c in candidates) or "none"
            raise NodeSpecError(f"the source must define exactly one Node subclass (found {names}); or name one in 'class'")
        return candidates[0]
    if not class_name:
        raise NodeSpecError("a Python node needs 'class' (\"module:Class\") or 'source'")
    module_name, _, attr = class_name.rpartition(":") if ":" in class_name else ("remotemedia.nodes", "", class_name)
    module = _module_for(class_name, module_name, attr)
    found = getattr(module, attr, None)
    if not (isinstance(found, type) and issubclass(found, Node)):
        raise NodeSpecError(f"{module_name} has no Node subclass named {attr!r}")
    return found


def _module_for(class_name: str, module_name: str, attr: str) -> Any:
    """The module of a class path, checked before anything new is imported:
    importing runs the module's top level, which is code of its own."""
    if not all(part.isidentifier() for part in module_name.split(".")) or not attr.isidentifier():
        raise NodeSpecError(f"{class_name!r} is not a class path (\"package.module:Class\")")
    loaded = sys.modules.get(module_name)
    if loaded is not None:
        return loaded  # nothing runs: `os:system` is refused below, never called
    # REMOTEMEDIA_CLASS_MODULES (comma-separated module prefixes), where a host sets it,
    # lists the only modules a class path may import.
    allowed = os.environ.get("REMOTEMEDIA_CLASS_MODULES")
    if allowed is not None and not any(
        module_name == prefix or module_name.startswith(prefix + ".")
        for prefix in (p.strip() for p in allowed.split(","))
        if prefix
    ):
        raise NodeSpecError(f"{class_name!r}: module {module_name!r} is not one this host imports ({allowed})")
    return importlib.import_module(module_name)


def _unpickle(encoded: str) -> Node:
    # The gateway refuses a pickle before it gets here unless its operator allowed
    # it; this is the second lock, for any other host of this runner.
    if os.environ.get("REMOTEMEDIA_ALLOW_PICKLE") != "1":
        raise NodeSpecError("refused to unpickle: this host does not allow pickled objects")
    node = pickle.loads(base64.b64decode(encoded))
    if not isinstance(node, Node):
        raise NodeSpecError(f"the pickle holds a {type(node).__name__}, not a Node")
    return node


class HostedNode:
    def __init__(self, spec_json: str) -> None:
        spec = json.loads(spec_json)
        if "pickle" in spec:
            self.node: Node = _unpickle(spec["pickle"])
        else:
            cls = _load_class(spec)
            self.node = cls(name=spec.get("name"), **spec.get("params", {}))

    async def initialize(self) -> None:
        await self.node._setup()

    def process(self, frame: Any) -> Any:
        """Output frames: a list when the node's process is synchronous (no trip
        through the event loop), else a coroutine resolving to one."""
        # From Pyodide, a Uint8Array arrives as a JsProxy: one copy into Python memory.
        _, data = decode_frame(frame.to_py() if hasattr(frame, "to_py") else frame)
        return self._outputs(self.node.process(from_runtime_data(data)))

    def flush(self) -> Any:
        return self._outputs(self.node.flush())

    async def cleanup(self) -> None:
        await self.node._teardown()

    def process_result(self, frame: bytes) -> Any:
        """What the node's process returned, unconsumed (a value, a coroutine, a
        generator): the node runner streams a generator's items one by one."""
        _, data = decode_frame(frame)
        return self.node.process(from_runtime_data(data))

    def flush_result(self) -> Any:
        return self.node.flush()

    def interrupt(self) -> None:
        """Asks the node to drop its in-flight work, if it has an `interrupt()`. The
        node runner calls it on a thread of its own while a call may be running:
        a node's hook must only set flags or stop its own subprocesses."""
        hook = getattr(self.node, "interrupt", None)
        if callable(hook):
            hook()

    @staticmethod
    def encode(out: Any) -> bytes:
        return encode_frame(to_runtime_data(out))

    @staticmethod
    def encode_all(result: Any) -> List[bytes]:
        """The frame of a plain (not streamed) result, or none for None (a list is one
        JSON output, as in every other host of a node)."""
        return [] if result is None else [encode_frame(to_runtime_data(result))]

    def _outputs(self, result: Any) -> Any:
        if inspect.isawaitable(result) or inspect.isasyncgen(result):
            return self._collect(result)
        if result is None:
            return []
        items = result if inspect.isgenerator(result) else (result,)
        return [encode_frame(to_runtime_data(out)) for out in items if out is not None]

    async def _collect(self, result: Any) -> List[bytes]:
        return [encode_frame(to_runtime_data(out)) async for out in outputs_of(result)]


def create_node(spec_json: str) -> HostedNode:
    return HostedNode(spec_json)
