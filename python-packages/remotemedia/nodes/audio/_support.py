"""What the audio nodes share: numpy when it is there (optional: every node but the
ones that say so runs without it), checks that raise the TypeScript nodes' errors,
float32 rounding, and how a node returns several outputs."""

from __future__ import annotations

import math
import struct
from array import array
from typing import Any, Iterable, Iterator, Optional

from ...data import InvalidData, RuntimeData

_numpy_enabled = True


def numpy_or_none() -> Any:
    """numpy, or None where it is not importable (Pyodide without loadPackage, a bare
    venv) or switched off with use_numpy(False)."""
    if not _numpy_enabled:
        return None
    try:
        import numpy
    except ImportError:
        return None
    return numpy


def use_numpy(enabled: bool) -> bool:
    """Turns the numpy kernels on or off (tests compare both); returns the old setting."""
    global _numpy_enabled
    previous, _numpy_enabled = _numpy_enabled, bool(enabled)
    return previous


def f32(value: float) -> float:
    """value rounded to the nearest float32, as a Float32Array stores it."""
    return struct.unpack("f", struct.pack("f", value))[0]


def raw(samples: Any) -> memoryview:
    """The bytes of float32 samples (array.frombytes takes only a byte view)."""
    return memoryview(samples).cast("B")


def js_round(x: float) -> int:
    """Math.round: halves go up (Python's round goes to even)."""
    return math.floor(x + 0.5)


def outputs(items: Iterable[Any]) -> Iterator[Any]:
    """Several outputs: a generator (a list would be one json output)."""
    for item in items:
        if item is not None:
            yield item


def audio_in(data: Any, node_type: str, name: str) -> RuntimeData:
    if not (isinstance(data, RuntimeData) and data.kind == "audio"):
        found = data.kind if isinstance(data, RuntimeData) else type(data).__name__
        raise TypeError(f"{name}: {node_type} takes audio (RuntimeData.audio), received {found}")
    return data


def assert_finite(audio: RuntimeData, node_type: str) -> None:
    """The first NaN or infinite sample is an error: one would smear across a whole filter."""
    np = numpy_or_none()
    samples = audio.samples
    if np is not None:
        values = np.frombuffer(samples, dtype=np.float32)
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size == 0:
            return
        index = int(bad[0])
    else:
        index = next((i for i, v in enumerate(samples) if v - v != 0), -1)
        if index < 0:
            return
    raise InvalidData(
        f"samples[{index}]", f"{node_type} received a non-finite sample ({samples[index]}); audio samples must be finite"
    )


class StreamFormat:
    """The format of a stream's first frame; a later frame in another format is an error."""

    def __init__(self, node_type: str, expected_rate: Optional[int] = None) -> None:
        self.node_type = node_type
        self.expected_rate = expected_rate
        self.sample_rate = 0
        self.channels = 0

    def check(self, audio: RuntimeData) -> bool:
        """True for the first frame of the stream."""
        if self.expected_rate is not None and audio.sample_rate != self.expected_rate:
            raise InvalidData(
                "sample_rate",
                f"{self.node_type} expects {self.expected_rate} Hz audio (its source_rate), received {audio.sample_rate} Hz",
            )
        if self.sample_rate == 0:
            self.sample_rate, self.channels = audio.sample_rate, audio.channels
            return True
        if audio.sample_rate != self.sample_rate or audio.channels != self.channels:
            raise InvalidData(
                "sample_rate" if audio.sample_rate != self.sample_rate else "channels",
                f"{self.node_type} received {audio.sample_rate} Hz x {audio.channels} channels after "
                f"{self.sample_rate} Hz x {self.channels}; a stream keeps one format",
            )
        return False

    def reset(self) -> None:
        self.sample_rate = self.channels = 0


def check_number(node: str, name: str, value: Any, low: float, high: float, integer: bool = False) -> None:
    """A param within the TypeScript node's bounds, else a ValueError saying which are valid."""
    kind = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind) or not low <= value <= high or (
        isinstance(value, float) and math.isnan(value)
    ):
        what = "an integer" if integer else "a number"
        raise ValueError(f"{node}: {name} must be {what} from {low} to {high}, found {value!r}")


def float_array(values: Any) -> array:
    """array('f') of values (a list, an array, a numpy array)."""
    if isinstance(values, array) and values.typecode == "f":
        return values
    if hasattr(values, "astype"):
        return array("f", values.astype("float32").tobytes())
    return array("f", values)
