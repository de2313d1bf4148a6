"""The built-in nodes of the original SDK. The runtime knows them by these names
(PassThroughNode, CalculatorNode are aliases of its PassThrough and Calculator), so
a pipeline of them runs on the runtime path and gives the same results here."""

from __future__ import annotations

from typing import Any, Optional

from ..core.node import Node


class PassThroughNode(Node):
    """Emits every input unchanged."""

    def process(self, data: Any) -> Any:
        return data


class CalculatorNode(Node):
    """add / subtract / multiply / divide by operand: numbers, or lists of numbers."""

    OPERATIONS = ("add", "subtract", "multiply", "divide")

    def __init__(self, name: Optional[str] = None, operation: str = "add", operand: float = 0, **config: Any) -> None:
        if operation not in self.OPERATIONS:
            raise ValueError(f"operation must be one of {', '.join(self.OPERATIONS)}, found {operation!r}")
        if isinstance(operand, bool) or not isinstance(operand, (int, float)):
            raise ValueError(f"operand must be a number, found {operand!r}")
        super().__init__(name, operation=operation, operand=operand, **config)
        self.operation = operation
        self.operand = operand

    def process(self, data: Any) -> Any:
        if isinstance(data, list):
            return [self._apply(v) for v in data]
        return self._apply(data)

    def _apply(self, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"{self.name}: expects a number or a list of numbers, received {value!r}")
        op, x = self.operation, self.operand
        if op == "add":
            return value + x
        if op == "subtract":
            return value - x
        if op == "multiply":
            return value * x
        if x == 0:
            raise ZeroDivisionError(f"{self.name}: division by zero")
        return value / x
