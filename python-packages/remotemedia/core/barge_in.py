"""Barge-in on the pure-Python executor: the manifest's `bargeIn` setting
(web/core/barge-in.ts and interrupt-gate.ts are the runtime's), with the same
meaning. When the setting's `trigger` node (the manifest's `from`) emits an event
named `on`, or an interrupt control, or — with no trigger — when an interrupt
control is given as input (or Pipeline.interrupt() is called), every node in `to`
is interrupted at once: its interrupt() hook runs, its call in flight stops (a
generator at its next item, a coroutine cancelled), what it makes after the
interrupt is dropped, and so is what still reaches it from before the interrupt,
until the interrupt control (which flows downstream behind the trigger) reaches it.
Every interrupt and every dropped item is counted (InterruptGate).

Single-threaded, in the executor's event loop; a node's interrupt() hook may be
called while its own generator is suspended between items."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any, Dict, Iterable, List, Optional, Sequence

from ..data import RuntimeData

#: The event that triggers barge-in unless `on` names another (SileroVAD's, EnergyVAD's).
DEFAULT_EVENT = "speech_start"


def is_interrupt(value: Any) -> bool:
    return isinstance(value, RuntimeData) and value.kind == "control" and value.signal == "interrupt"


class BargeIn:
    """Which output interrupts which nodes: `to` node names, `trigger` the node whose
    output does it (None: an interrupt given as input), `on` its event name."""

    def __init__(self, to: Sequence[str], trigger: Optional[str] = None, on: Optional[str] = None) -> None:
        if isinstance(to, str) or not all(isinstance(name, str) for name in to):
            raise TypeError(f"barge_in(to=...) takes a list of node names, such as ['tts', 'speaker'], found {to!r}")
        if on is not None and (not isinstance(on, str) or not on):
            raise ValueError(f"barge_in(on=...) must name an event, such as 'speech_start', found {on!r}")
        if not to and trigger is None:
            raise ValueError("barge_in(to=...) must list the nodes to interrupt, such as ['tts', 'speaker']")
        self.to = list(to)
        self.trigger = trigger
        self.on = on

    def check(self, names: Sequence[str], downstream: Dict[str, List[str]]) -> None:
        """The setting's names against the graph: a ValueError naming what is wrong."""
        listed = ", ".join(names)
        if self.trigger is not None and self.trigger not in downstream:
            raise ValueError(f"barge_in trigger: no node named {self.trigger!r}; nodes: {listed}")
        below = _descendants(downstream, self.trigger) if self.trigger is not None else None
        seen = set()
        for index, name in enumerate(self.to):
            if name not in downstream:
                raise ValueError(f"barge_in to[{index}]: no node named {name!r}; nodes: {listed}")
            if name in seen:
                raise ValueError(f"barge_in to[{index}]: {name!r} is listed twice")
            if below is not None and name not in below:
                valid = ", ".join(sorted(below)) or "none: it is a sink"
                raise ValueError(
                    f"barge_in to[{index}]: {name!r} is not downstream of {self.trigger!r}, so its interrupt "
                    f"could not reach it; nodes downstream of {self.trigger!r}: {valid}"
                )
            seen.add(name)

    def triggers(self, name: str, value: Any) -> bool:
        if self.trigger != name or not isinstance(value, RuntimeData):
            return False
        if value.kind == "control":
            return value.signal == "interrupt"
        return value.kind == "event" and value.name == (self.on or DEFAULT_EVENT)


class InterruptGate:
    """One `to` node's barge-in state, and its counts (`interrupts`, `dropped`)."""

    def __init__(self, node: Any) -> None:
        self.node = node
        #: Counts interrupts; a call remembers the value it began with (see `current`).
        self.epoch = 0
        #: Inputs are stale until the in-band interrupt control reaches this node.
        self.stale = False
        self.interrupts = 0
        self.dropped = 0
        #: Set by the next interrupt: a coroutine call in flight waits on it to be cancelled.
        self.interrupted = asyncio.Event()

    def interrupt(self) -> None:
        self.epoch += 1
        self.stale = True
        self.interrupts += 1
        self.interrupted.set()
        self.interrupted = asyncio.Event()
        hook = getattr(self.node, "interrupt", None)
        if callable(hook):
            done = hook()
            if inspect.isawaitable(done):
                asyncio.ensure_future(done)

    def admit(self, value: Any) -> bool:
        """An input about to reach the node: False when it is stale and dropped (counted)."""
        if is_interrupt(value):
            self.stale = False
            return True
        if not self.stale or (isinstance(value, RuntimeData) and value.kind in ("control", "event")):
            return True
        self.dropped += 1
        return False

    def current(self, epoch: int) -> bool:
        """Whether an output of a call that began at `epoch` is still wanted; counts a drop if not."""
        if epoch == self.epoch:
            return True
        self.dropped += 1
        return False


def _descendants(downstream: Dict[str, List[str]], name: str) -> set:
    found: set = set()
    stack = list(downstream[name])
    while stack:
        nxt = stack.pop()
        if nxt not in found:
            found.add(nxt)
            stack.extend(downstream[nxt])
    return found


def gates_for(setting: Optional[BargeIn], nodes: Dict[str, Any]) -> Dict[str, InterruptGate]:
    return {name: InterruptGate(nodes[name]) for name in (setting.to if setting else [])}


def metrics_of(gates: Dict[str, InterruptGate], names: Iterable[str]) -> List[Dict[str, Any]]:
    """Per node, named as the runtime's NodeMetricsSnapshot: interrupts, droppedOnInterrupt."""
    out = []
    for name in names:
        gate = gates.get(name)
        out.append({
            "nodeId": name,
            "interrupts": gate.interrupts if gate else 0,
            "droppedOnInterrupt": gate.dropped if gate else 0,
        })
    return out
