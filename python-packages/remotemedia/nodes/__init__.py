"""Built-in nodes: `from remotemedia.nodes import PassThroughNode, CalculatorNode`."""

from .base import CalculatorNode, PassThroughNode

__all__ = ["CalculatorNode", "PassThroughNode"]
