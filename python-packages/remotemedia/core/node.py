"""The Node base class, as in the original SDK: initialize, process, cleanup.

process may be a plain function, a coroutine, a generator or an async generator
(streaming: each yielded value is one output). Returning None emits nothing."""

from __future__ import annotations

import inspect
from typing import Any, AsyncIterator, Dict, List, Optional


class Node:
    """Subclass and override process (and initialize/flush/cleanup if needed)."""

    def __init__(self, name: Optional[str] = None, **config: Any) -> None:
        self.name = name or type(self).__name__
        self.config: Dict[str, Any] = dict(config)
        self.is_initialized = False

    @property
    def node_type(self) -> str:
        """The manifest node_type; the runtime knows the built-in ones by this name."""
        return type(self).__name__

    def params(self) -> Dict[str, Any]:
        """The manifest params of this node."""
        return dict(self.config)

    def manifest_nodes(self) -> List[Dict[str, Any]]:
        """This node's entries in the manifest: one, by default; a chain of several for
        a node that is a composition of runtime nodes (AudioTransform)."""
        return [{"id": self.name, "node_type": self.node_type, "params": self.params()}]

    def initialize(self) -> Any:
        """Called once before the first input (may be async)."""

    def process(self, data: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__}.process is not implemented")

    def flush(self) -> Any:
        """Called at the end of the stream; may return (or yield) final outputs."""

    def cleanup(self) -> Any:
        """Called once when the pipeline ends (may be async)."""

    async def _setup(self) -> None:
        if not self.is_initialized:
            await _maybe_await(self.initialize())
            self.is_initialized = True

    async def _teardown(self) -> None:
        if self.is_initialized:
            await _maybe_await(self.cleanup())
            self.is_initialized = False


class SourceNode(Node):
    """A node that makes a stream instead of processing one: generate() returns (or
    yields) its items, sync or async. A pipeline's sources run in Python on either
    path: on the runtime path their items are the manifest's inputs, as the
    browser's sources (microphone, files) feed its islands from the main thread."""

    def generate(self) -> Any:
        raise NotImplementedError(f"{type(self).__name__}.generate is not implemented")

    def process(self, data: Any) -> Any:
        raise TypeError(
            f"{self.name}: {type(self).__name__} is a source and takes no input; "
            "run the pipeline with no input (await pipeline.run()), or connect nothing into it"
        )


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


async def outputs_of(result: Any) -> AsyncIterator[Any]:
    """Every output of one process/flush call, whatever form the node returned."""
    if inspect.isawaitable(result):
        result = await result
    if result is None:
        return
    if inspect.isasyncgen(result):
        async for item in result:
            if item is not None:
                yield item
    elif inspect.isgenerator(result):
        for item in result:
            if item is not None:
                yield item
    else:
        yield result
