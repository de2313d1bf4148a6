"""Rebuffer: audio re-cut into frames of exactly frame_size samples per channel,
one starting every hop samples, whatever the input chunks; at the end the frames
begun are zero-padded (tail "pad") or dropped. As web/core/nodes/audio/rebuffer.ts."""

from __future__ import annotations

from array import array
from typing import Any, List, Optional

from ...core.node import Node
from ...data import RuntimeData
from ._support import raw, StreamFormat, audio_in, check_number, outputs

TAILS = ("pad", "drop")


class Rebuffer(Node):
    def __init__(self, name: Optional[str] = None, frame_size: int = 1024, hop: Optional[int] = None,
                 tail: str = "pad") -> None:
        check_number("Rebuffer", "frame_size", frame_size, 1, 1 << 22, integer=True)
        if hop is not None:
            check_number("Rebuffer", "hop", hop, 1, 1 << 22, integer=True)
        if tail not in TAILS:
            raise ValueError(f"Rebuffer: tail must be one of {', '.join(TAILS)}, found {tail!r}")
        super().__init__(name, frame_size=frame_size, tail=tail, **({"hop": hop} if hop is not None else {}))
        self.frame_size, self.hop, self.tail = frame_size, hop or frame_size, tail
        self._format = StreamFormat("Rebuffer")
        self._pending = array("f")  # the latest frames of the stream, from stream position _held_from
        self._held_from = 0
        self._next_start = 0  # where the next output frame starts
        self._start_us: Optional[float] = None

    def process(self, data: Any) -> Any:
        audio = audio_in(data, "Rebuffer", self.name)
        fmt = self._format
        if fmt.check(audio):
            self._start_us, self._pending, self._held_from, self._next_start = audio.timestamp_us, array("f"), 0, 0
        ch = fmt.channels
        self._pending.frombytes(raw(audio.samples))
        held = len(self._pending) // ch
        frames: List[RuntimeData] = []
        while self._next_start + self.frame_size <= self._held_from + held:
            at = (self._next_start - self._held_from) * ch
            frames.append(self._frame(self._next_start, self._pending[at : at + self.frame_size * ch]))
            self._next_start += self.hop
        drop = min(held, max(0, self._next_start - self._held_from))
        del self._pending[: drop * ch]
        self._held_from += drop
        return outputs(frames)

    def flush(self) -> Any:
        fmt = self._format
        frames: List[RuntimeData] = []
        if fmt.sample_rate and self.tail == "pad":
            ch = fmt.channels
            end = self._held_from + len(self._pending) // ch
            while self._next_start < end:
                at = (self._next_start - self._held_from) * ch
                samples = self._pending[at : at + self.frame_size * ch]
                samples.extend(array("f", bytes(4 * (self.frame_size * ch - len(samples)))))
                frames.append(self._frame(self._next_start, samples))
                self._next_start += self.hop
        fmt.reset()
        self._pending = array("f")
        return outputs(frames)

    def _frame(self, start: int, samples: array) -> RuntimeData:
        fmt = self._format
        at = None if self._start_us is None else self._start_us + start / fmt.sample_rate * 1e6
        return RuntimeData.audio(samples, fmt.sample_rate, fmt.channels, at)
