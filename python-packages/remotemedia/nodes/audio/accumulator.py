"""Accumulator: audio gathered into one frame every duration_ms (the remainder
carried over), when the event named until_event arrives (the event follows it), and
at the end of the stream. As web/core/nodes/audio/accumulator.ts."""

from __future__ import annotations

from array import array
from typing import Any, List, Optional

from ...core.node import Node
from ...data import RuntimeData
from ._support import raw, StreamFormat, audio_in, check_number, js_round, outputs


class Accumulator(Node):
    def __init__(self, name: Optional[str] = None, duration_ms: Optional[float] = None,
                 until_event: Optional[str] = None) -> None:
        if duration_ms is not None:
            check_number("Accumulator", "duration_ms", duration_ms, 1e-9, 3_600_000)
        if until_event is not None and (not isinstance(until_event, str) or not until_event):
            raise ValueError(f"Accumulator: until_event must be a non-empty event name, found {until_event!r}")
        given = {"duration_ms": duration_ms, "until_event": until_event}
        super().__init__(name, **{k: v for k, v in given.items() if v is not None})
        self.duration_ms, self.until_event = duration_ms, until_event
        self._format = StreamFormat("Accumulator")
        self._held = array("f")
        self._emitted = 0
        self._start_us: Optional[float] = None

    def process(self, data: Any) -> Any:
        if isinstance(data, RuntimeData) and data.kind == "event":
            if data.name != self.until_event:
                return data
            return outputs([self._emit(), data])
        audio = audio_in(data, "Accumulator", self.name)
        fmt = self._format
        if fmt.check(audio):
            self._start_us, self._emitted = audio.timestamp_us, 0
        self._held.frombytes(raw(audio.samples))
        if self.duration_ms is None:
            return None
        size = max(1, js_round(self.duration_ms / 1000 * fmt.sample_rate))
        frames: List[Any] = []
        while len(self._held) // fmt.channels >= size:
            frames.append(self._emit(size))
        return outputs(frames)

    def flush(self) -> Any:
        rest = self._emit() if self._format.sample_rate else None
        self._held = array("f")
        self._format.reset()
        return rest

    def _emit(self, count: Optional[int] = None) -> Optional[RuntimeData]:
        fmt = self._format
        ch = fmt.channels or 1
        count = len(self._held) // ch if count is None else count
        if count == 0:
            return None
        samples = self._held[: count * ch]
        del self._held[: count * ch]
        at = None if self._start_us is None else self._start_us + self._emitted / fmt.sample_rate * 1e6
        self._emitted += count
        return RuntimeData.audio(samples, fmt.sample_rate, ch, at)

