"""The Node base class, as in the original SDK: initialize, process, cleanup.

process may be a plain function, a coroutine, a generator or an async generator
(streaming: each yielded value is one output). Returning None emits nothing."""

from __future__ import annotations

import inspect
from typing import Any, AsyncIterator, Dict, Optional


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
