"""The pure-Python executor: runs a pipeline's nodes in this interpreter, the
fallback when the runtime is not available or does not know a node. Each input is
pushed through the graph depth-first (fan-out in connection order); at the end of
the stream every node is flushed in topological order, its outputs pushed on.
Source nodes (SourceNode) feed the graph first, from their own generate()."""

from __future__ import annotations

from typing import Any, AsyncIterator, Dict, List, Sequence, Tuple

from .node import Node, SourceNode, outputs_of


class PipelineGraphError(ValueError):
    """Connections that do not form a DAG over known nodes."""


def topological_order(names: Sequence[str], connections: Sequence[Tuple[str, str]]) -> List[str]:
    known = set(names)
    for a, b in connections:
        if a not in known or b not in known:
            raise PipelineGraphError(f"connection {a} -> {b} names an unknown node; nodes: {', '.join(names)}")
    indegree = {n: 0 for n in names}
    for _, b in connections:
        indegree[b] += 1
    ready = [n for n in names if indegree[n] == 0]
    order: List[str] = []
    while ready:
        n = ready.pop(0)
        order.append(n)
        for a, b in connections:
            if a == n:
                indegree[b] -= 1
                if indegree[b] == 0:
                    ready.append(b)
    if len(order) != len(names):
        stuck = [n for n in names if n not in order]
        raise PipelineGraphError(f"the connections form a cycle through {', '.join(stuck)}")
    return order


class PythonExecutor:
    def __init__(self, nodes: Dict[str, Node], connections: Sequence[Tuple[str, str]]) -> None:
        self.nodes = nodes
        self.order = topological_order(list(nodes), connections)
        self.downstream: Dict[str, List[str]] = {n: [] for n in nodes}
        upstream: Dict[str, int] = {n: 0 for n in nodes}
        for a, b in connections:
            self.downstream[a].append(b)
            upstream[b] += 1
        roots = [n for n in self.order if upstream[n] == 0]
        #: Nodes that make their own stream, and the roots the inputs feed.
        self.generators = [n for n in roots if isinstance(nodes[n], SourceNode)]
        self.sources = [n for n in roots if n not in self.generators]

    async def stream(self, inputs: AsyncIterator[Any], teardown: bool = True) -> AsyncIterator[Tuple[str, Any]]:
        """(sink name, output) for every output, in the order produced. Nodes not yet
        initialized are; with `teardown` False they stay up (Pipeline.initialize)."""
        for name in self.order:
            await self.nodes[name]._setup()
        try:
            for name in self.generators:
                async for item in outputs_of(self.nodes[name].generate()):
                    async for out in self._forward(name, item):
                        yield out
            async for item in inputs:
                if not self.sources:
                    raise ValueError(
                        f"this pipeline's only roots are sources ({', '.join(self.generators)}), which take no "
                        "input; run it with none (await pipeline.run())"
                    )
                for source in self.sources:
                    async for out in self._push(source, item):
                        yield out
            for name in self.order:
                async for result in outputs_of(self.nodes[name].flush()):
                    async for out in self._forward(name, result):
                        yield out
        finally:
            if teardown:
                await self.teardown()

    async def teardown(self) -> None:
        for name in reversed(self.order):
            await self.nodes[name]._teardown()

    async def _push(self, name: str, value: Any) -> AsyncIterator[Tuple[str, Any]]:
        async for result in outputs_of(self.nodes[name].process(value)):
            async for out in self._forward(name, result):
                yield out

    async def _forward(self, name: str, result: Any) -> AsyncIterator[Tuple[str, Any]]:
        if not self.downstream[name]:
            yield name, result
            return
        for nxt in self.downstream[name]:
            async for out in self._push(nxt, result):
                yield out
