"""Pipeline, as in the original SDK: add nodes, connect them (a chain by default),
serialize to a v1 manifest, and run — on the runtime when it is there and knows
every node, else on the pure-Python executor, with identical results."""

from __future__ import annotations

import json
import logging
from typing import Any, AsyncIterator, Dict, Iterable, List, Optional, Tuple

from .barge_in import BargeIn
from .executor import PythonExecutor
from .node import Node, SourceNode, outputs_of

log = logging.getLogger("remotemedia.pipeline")


class Pipeline:
    def __init__(self, name: str = "pipeline") -> None:
        self.name = name
        self.nodes: Dict[str, Node] = {}
        self._connections: List[Tuple[str, str]] = []
        #: Which path the last run took ("runtime" or "python") and why.
        self.last_run: Optional[Tuple[str, str]] = None
        self._initialized = False
        self._barge_in: Optional[BargeIn] = None
        #: Streams running on the pure-Python executor (interrupt() reaches them).
        self._running: List[PythonExecutor] = []
        self._last: Optional[PythonExecutor] = None

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

    def barge_in(self, to: List[str], trigger: Optional[str] = None, on: Optional[str] = None) -> "Pipeline":
        """The manifest's `bargeIn` (docs/manifest.md, Barge-in): when node `trigger`
        emits an event named `on` (default speech_start) or an interrupt control — or,
        with no trigger, when an interrupt control is given as input or interrupt() is
        called — the nodes `to` are interrupted at once, on either path."""
        if trigger is not None and trigger not in self.nodes:
            raise ValueError(f"barge_in: no node named {trigger!r}; nodes: {', '.join(self.nodes)}")
        if trigger is not None and isinstance(self.nodes[trigger], SourceNode):
            raise ValueError(f"barge_in: {trigger!r} is a source, which runs outside the pipeline; trigger with a node it feeds")
        self._barge_in = BargeIn(to, trigger, on)
        return self

    def interrupt(self) -> None:
        """Barge-in now, from outside (an application's button, its own VAD), on the
        streams running on the pure-Python executor (process(), run()): the `to` nodes
        stop their call in flight, and what was read ahead for them is dropped."""
        if self._barge_in is None:
            raise ValueError(f"pipeline {self.name!r} has no barge-in setting: call barge_in(to=[...]) first")
        for executor in list(self._running):
            executor.interrupt()

    def metrics(self) -> List[Dict[str, Any]]:
        """Per node of the last (or running) pure-Python stream: its `interrupts` and
        `droppedOnInterrupt`, as the runtime's metrics name them."""
        return self._last.metrics() if self._last is not None else []

    @property
    def connections(self) -> List[Tuple[str, str]]:
        if self._connections:
            return list(self._connections)
        names = list(self.nodes)
        return list(zip(names, names[1:]))

    def manifest(self) -> Dict[str, Any]:
        """The v1 manifest. Source nodes (SourceNode) are not in it: they run in Python
        and their items are its inputs (see run). A node made of several runtime nodes
        is their chain; edges into it reach the first, edges out of it leave the last."""
        entries = {
            name: node.manifest_nodes() for name, node in self.nodes.items() if not isinstance(node, SourceNode)
        }
        connections = [
            {"from": a["id"], "to": b["id"]} for chain in entries.values() for a, b in zip(chain, chain[1:])
        ]
        connections += [
            {"from": entries[a][-1]["id"], "to": entries[b][0]["id"]}
            for a, b in self.connections if a in entries and b in entries
        ]
        manifest: Dict[str, Any] = {
            "version": "v1",
            "metadata": {"name": self.name},
            "nodes": [entry for chain in entries.values() for entry in chain],
            "connections": connections,
        }
        setting = self._barge_in
        if setting is not None:
            # A node made of a chain: each of its entries is interrupted; the last one triggers.
            manifest["bargeIn"] = {
                **({"from": entries[setting.trigger][-1]["id"]} if setting.trigger is not None else {}),
                **({"on": setting.on} if setting.on else {}),
                "to": [entry["id"] for name in setting.to if name in entries for entry in entries[name]],
            }
        return manifest

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
            reason = self._runtime_refusal() or self._sources_refusal(items)
            if reason is None:
                import remotemedia_runtime

                # The source's items are the manifest's input (kept apart: a fallback
                # runs the source again, in the executor).
                fed = await self._generated() if self._source_names() else items

                where = remotemedia_runtime.where()
                log.info("pipeline %r: running on the runtime (%s)", self.name, where)
                manifest = self.serialize()
                try:
                    results = (
                        await remotemedia_runtime.execute_pipeline_with_input(manifest, fed)
                        if fed
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
        return [out async for _, out in self._stream(_aiter(items))]

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
        async for _, out in self._stream(stream, teardown=not self._initialized):
            yield out

    async def _stream(self, inputs: AsyncIterator[Any], teardown: bool = True) -> AsyncIterator[Tuple[str, Any]]:
        executor = self._executor()
        self._running.append(executor)
        self._last = executor
        try:
            async for out in executor.stream(inputs, teardown=teardown):
                yield out
        finally:
            self._running.remove(executor)

    def _executor(self) -> PythonExecutor:
        return PythonExecutor(self.nodes, self.connections, self._barge_in)

    def _source_names(self) -> List[str]:
        return [name for name, node in self.nodes.items() if isinstance(node, SourceNode)]

    def _sources_refusal(self, items: List[Any]) -> Optional[str]:
        """Why the sources cannot feed the manifest's inputs, or None: the manifest's
        input goes to every node nothing in it feeds, so there must be one source and
        it must feed exactly those nodes."""
        sources = self._source_names()
        if not sources:
            return None
        rest = [name for name in self.nodes if name not in sources]
        if not rest:
            return "the pipeline is only sources: there is nothing for the runtime to run"
        if items:
            return f"the pipeline has a source ({', '.join(sources)}) and was given input too"
        if len(sources) > 1:
            return f"the pipeline has {len(sources)} sources ({', '.join(sources)}); the runtime path takes one"
        edges = self.connections
        fed = {b for a, b in edges if a == sources[0]}
        roots = {n for n in rest if all(b != n or a in sources for a, b in edges)}
        if fed != roots:
            return f"the source {sources[0]!r} does not feed every entry node of the rest ({', '.join(sorted(roots))})"
        return None

    async def _generated(self) -> List[Any]:
        """Every item of the (one) source, made here in Python."""
        source = self.nodes[self._source_names()[0]]
        await source._setup()
        try:
            return [item async for item in outputs_of(source.generate())]
        finally:
            await source._teardown()

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
            if isinstance(node, SourceNode):
                continue
            for entry in node.manifest_nodes():
                if entry["node_type"] not in known:
                    return f"the runtime does not know node {node.name!r} ({entry['node_type']})"
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
