"""Errors of nodes that cannot run on the pure-Python executor, each naming the node
and what would run it."""

from __future__ import annotations

RUN_ON_RUNTIME = (
    "run it on the runtime: Pipeline.run under CPython with REMOTEMEDIA_GATEWAY_URL (and "
    "REMOTEMEDIA_GATEWAY_TOKEN) set, where a gateway runs it, or inside Pyodide, where the TypeScript core does"
)


class NoPythonImplementation(NotImplementedError):
    """A node type the runtime has and this package does not implement in Python."""

    def __init__(self, name: str, node_type: str, why: str) -> None:
        super().__init__(f"{name}: {node_type} has no Python implementation ({why}); {RUN_ON_RUNTIME}")
        self.node_name = name
        self.node_type = node_type


class NumpyRequired(ImportError):
    """A node whose Python implementation needs numpy, in an interpreter without it."""

    def __init__(self, name: str, node_type: str) -> None:
        super().__init__(
            f"{name}: {node_type} needs numpy on the pure-Python path and numpy is not importable here; "
            f"install numpy (Debian: python3-numpy; Pyodide: await pyodide.loadPackage('numpy')), or {RUN_ON_RUNTIME}"
        )
        self.node_name = name
        self.node_type = node_type
