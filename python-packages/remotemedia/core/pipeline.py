"""Pipeline, as in the original SDK: add nodes, connect them (a chain by default),
serialize to a v1 manifest, and run — on the runtime when it is there and knows
every node, else on the pure-Python executor, with identical results."""

from __future__ import annotations

import json
import logging
from typing import Any, AsyncIterator, Dict, Iterable, List, Optional, Tuple

from .executor import PythonExecutor
from .node import Node

log = logging.getLogger("remotemedia.pipeline")


class Pipeline:
    def __init__(self, name: str = "pipeline") -> None:
        self.name = name
        self.nodes: Dict[str, Node] = {}
        self._connections: List[Tuple[str, str]] = []
        #: Which path the last run took ("runtime" or "python") and why.
        self.last_run: Optional[Tuple[str, str]] = None
        self._initialized = False

    def add_node(self, node: Node) -> "Pipeline":
        if not isinstance(node, Node):
            raise TypeError(f"add_node expects a remotemedia Node, found {type(node).__name__}")
        if node.name in self.nodes:
            raise ValueError(f"a node named {node.name!r} is already in pipeline {self.name!r}; names must be unique")
        self.nodes[node.name] = node
        return self

    def connect(self, source: str, target: str) -> "Pipeline":
        """An explicit edge; once any is given, the graph is exactly the given edges."""
        for end in (source, target):
            if end not in self.nodes:
                raise ValueError(f"connect: no node named {end!r}; nodes: {', '.join(self.nodes)}")
        self._connections.append((source, target))
        return self

    @property
    def connections(self) -> List[Tuple[str, str]]:
        if self._connections:
            return list(self._connections)
        names = list(self.nodes)
        return list(zip(names, names[1:]))

    def manifest(self) -> Dict[str, Any]:
        return {
            "version": "v1",
            "metadata": {"name": self.name},
            "nodes": [{"id": n.name, "node_type": n.node_type, "params": n.params()} for n in self.nodes.values()],
            "connections": [{"from": a, "to": b} for a, b in self.connections],
        }

    def serialize(self) -> str:
        """The v1 manifest as JSON text, what the runtime's execute_pipeline takes."""
        return json.dumps(self.manifest())

    async def run(self, input: Any = None, use_runtime: bool = True, *, use_rust: Optional[bool] = None) -> List[Any]:
        """Runs every input (a list is a batch, anything else one item, None no
        input) and returns every output. `use_rust` is the original SDK's name for
        `use_runtime` (its runtime was Rust), kept so its code runs unchanged."""
        switch = "use_runtime"
        if use_rust is not None:
            use_runtime, switch = use_rust, "use_rust"
        items = [] if input is None else list(input) if isinstance(input, list) else [input]
        if use_runtime:
            reason = self._runtime_refusal()
            if reason is None:
                import remotemedia_runtime

                where = remotemedia_runtime.where()
                log.info("pipeline %r: running on the runtime (%s)", self.name, where)
                manifest = self.serialize()
                try:
                    results = (
                        await remotemedia_runtime.execute_pipeline_with_input(manifest, items)
                        if items
                        else await remotemedia_runtime.execute_pipeline(manifest)
                    )
                except Exception as error:
                    reason = _unknown_types(error)
                    if reason is None:
                        raise  # a failing node is the pipeline's error, not a reason to run it twice
                else:
                    self.last_run = ("runtime", f"runtime {remotemedia_runtime.get_runtime_version()} ({where})")
                    log.info("pipeline %r: the runtime ran it (%s)", self.name, where)
                    return results
        else:
            reason = f"{switch}=False"
        self.last_run = ("python", reason)
        log.info("pipeline %r: running on the pure-Python executor, because %s", self.name, reason)
        return [out async for _, out in self._executor().stream(_aiter(items))]

    async def initialize(self) -> None:
        """Initializes every node now; they stay up across process() calls until
        cleanup(), as the original's streaming API had it."""
        for name in self._executor().order:
            await self.nodes[name]._setup()
        self._initialized = True

    async def cleanup(self) -> None:
        await self._executor().teardown()
        self._initialized = False

    async def process(self, stream: AsyncIterator[Any]) -> AsyncIterator[Any]:
        """Streams outputs as inputs arrive (Python executor). Nodes are set up for
        the stream and cleaned up after it, unless initialize() was called."""
        async for _, out in self._executor().stream(stream, teardown=not self._initialized):
            yield out

    def _executor(self) -> PythonExecutor:
        return PythonExecutor(self.nodes, self.connections)

    def _runtime_refusal(self) -> Optional[str]:
        """Why the runtime cannot run this pipeline, or None if it can (as far as is
        known before asking: a gateway says which node types it lacks when asked)."""
        try:
            import remotemedia_runtime
        except ImportError as error:
            return f"remotemedia_runtime is not importable ({error})"
        if not remotemedia_runtime.is_available():
            return remotemedia_runtime.unavailable_reason()
        types = remotemedia_runtime.node_types()
        if types is None:
            return None
        known = set(types)
        for node in self.nodes.values():
            if node.node_type not in known:
                return f"the runtime does not know node {node.name!r} ({node.node_type})"
        return None


def _unknown_types(error: Exception) -> Optional[str]:
    """The fallback's reason when the runtime refused the manifest only for node types
    it does not know (a gateway's answer); None for any other error."""
    issues = getattr(error, "issues", None) or []
    if getattr(error, "kind", None) != "manifest_invalid" or not issues:
        return None
    if any(issue.get("code") != "unknown_node_type" for issue in issues):
        return None
    names = ", ".join(str(issue.get("nodeId") or issue.get("path")) for issue in issues)
    return f"the runtime does not know the node types of {names}"


async def _aiter(items: Iterable[Any]) -> AsyncIterator[Any]:
    for item in items:
        yield item
