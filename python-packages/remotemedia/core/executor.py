"""The pure-Python executor: runs a pipeline's nodes in this interpreter, the
fallback when the runtime is not available or does not know a node. Each input is
pushed through the graph depth-first (fan-out in connection order); at the end of
the stream every node is flushed in topological order, its outputs pushed on.
Source nodes (SourceNode) feed the graph first, from their own generate().

With a barge-in setting (barge_in.py) the inputs are read ahead, by a task of their
own, so that an interrupt among them acts while the item before it is still being
processed (a reply still streaming), and the `to` nodes' calls can be stopped.
An interrupt control is the executor's: it flows on to every sink, past process()."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any, AsyncIterator, Dict, List, Optional, Sequence, Tuple

from ..data import RuntimeData
from .barge_in import BargeIn, InterruptGate, gates_for, is_interrupt, metrics_of
from .node import Node, SourceNode, outputs_of

#: Marks the end of the inputs read ahead (see _read_ahead).
_END = object()


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
    def __init__(
        self, nodes: Dict[str, Node], connections: Sequence[Tuple[str, str]], barge_in: Optional[BargeIn] = None
    ) -> None:
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
        if barge_in is not None:
            barge_in.check(list(nodes), self.downstream)
        self.barge_in = barge_in
        self.gates: Dict[str, InterruptGate] = gates_for(barge_in, nodes)
        #: The inputs read ahead while a stream runs with barge-in (see interrupt()).
        self._ahead: Optional[asyncio.Queue] = None

    def interrupt(self) -> None:
        """Barge-in from outside (Pipeline.interrupt()): the `to` nodes are interrupted
        now, and an interrupt control joins the inputs read so far, behind them: what
        they make for the `to` nodes is stale. Nothing without a setting or a stream."""
        if self.barge_in is None or self._ahead is None:
            return
        self._interrupt_targets()
        self._ahead.put_nowait(RuntimeData.control("interrupt"))

    def metrics(self) -> List[Dict[str, Any]]:
        """Each node's `interrupts` and `droppedOnInterrupt`, as the runtime counts them."""
        return metrics_of(self.gates, self.order)

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
            async for item in self._read_ahead(inputs) if self.barge_in else inputs:
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

    async def _read_ahead(self, inputs: AsyncIterator[Any]) -> AsyncIterator[Any]:
        """The inputs, read by a task of their own: an interrupt given as input acts
        when it is read (its control follows the inputs read before it, in order)."""
        ahead: asyncio.Queue = asyncio.Queue()
        self._ahead = ahead

        async def read() -> None:
            try:
                async for item in inputs:
                    if is_interrupt(item) and self.barge_in is not None and self.barge_in.trigger is None:
                        self._interrupt_targets()
                    ahead.put_nowait(item)
            except Exception as error:  # the inputs' own error ends the stream, raised there
                ahead.put_nowait((_END, error))
                return
            ahead.put_nowait((_END, None))

        reader = asyncio.ensure_future(read())
        try:
            while True:
                item = await ahead.get()
                if isinstance(item, tuple) and len(item) == 2 and item[0] is _END:
                    if item[1] is not None:
                        raise item[1]
                    return
                yield item
        finally:
            self._ahead = None
            reader.cancel()

    def _interrupt_targets(self) -> None:
        for gate in self.gates.values():
            gate.interrupt()

    async def _push(self, name: str, value: Any) -> AsyncIterator[Tuple[str, Any]]:
        gate = self.gates.get(name)
        if is_interrupt(value):
            if gate is not None:
                gate.admit(value)  # the in-band control: this node's stale input ends here
            async for out in self._forward(name, value):
                yield out
            return
        if gate is not None and not gate.admit(value):
            return
        result = self.nodes[name].process(value)
        outputs = outputs_of(result) if gate is None else self._interruptible(result, gate)
        async for item in outputs:
            async for out in self._forward(name, item):
                yield out

    async def _interruptible(self, result: Any, gate: InterruptGate) -> AsyncIterator[Any]:
        """A `to` node's outputs of one call, until an interrupt: a coroutine is
        cancelled, a generator closed at its next item; what came after is dropped."""
        epoch = gate.epoch
        if inspect.isawaitable(result):
            call = asyncio.ensure_future(result)
            interrupted = asyncio.ensure_future(gate.interrupted.wait())
            await asyncio.wait({call, interrupted}, return_when=asyncio.FIRST_COMPLETED)
            interrupted.cancel()
            if not call.done():
                call.cancel()
                try:
                    await call
                except asyncio.CancelledError:
                    pass
                return
            result = call.result()
            if not gate.current(epoch):
                return
        if inspect.isasyncgen(result):
            try:
                async for item in result:
                    if not gate.current(epoch):
                        return
                    if item is not None:
                        yield item
                    if gate.epoch != epoch:
                        return  # interrupted while its item went downstream: make no more
            finally:
                await result.aclose()
        elif inspect.isgenerator(result):
            try:
                for item in result:
                    if not gate.current(epoch):
                        return
                    if item is not None:
                        yield item
                    await asyncio.sleep(0)  # the input reader's turn: it may hold an interrupt
                    if gate.epoch != epoch:
                        return
            finally:
                result.close()
        elif result is not None:
            yield result

    async def _forward(self, name: str, result: Any) -> AsyncIterator[Tuple[str, Any]]:
        marker = None
        if self.barge_in is not None and self.barge_in.triggers(name, result):
            self._interrupt_targets()
            if not is_interrupt(result):  # behind an event trigger, the interrupt control
                marker = RuntimeData("control", result.timestamp_us, signal="interrupt")
        for item in (result,) if marker is None else (result, marker):
            if not self.downstream[name]:
                yield name, item
                continue
            for nxt in self.downstream[name]:
                async for out in self._push(nxt, item):
                    yield out
