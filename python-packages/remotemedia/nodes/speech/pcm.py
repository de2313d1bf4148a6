"""Float32 audio <-> 16-bit PCM, and a streaming band-limited resampler, for the
speech engines (which all speak 16-bit PCM). numpy where the host has it (the
gateway's set-up installs Debian's); a plain loop otherwise, correct but slow."""

from __future__ import annotations

import math
from array import array
from typing import Any

try:
    import numpy as np
except ImportError:  # Pyodide without numpy, or a bare interpreter
    np = None


def float_to_pcm16(samples: Any) -> bytes:
    """float32 samples in [-1, 1] (clipped beyond) as little-endian int16 bytes."""
    if np is not None:
        data = np.frombuffer(memoryview(samples).cast("B"), dtype=np.float32)
        return (np.clip(data, -1.0, 1.0) * 32767.0).round().astype("<i2").tobytes()
    return array("h", (int(round(max(-1.0, min(1.0, x)) * 32767.0)) for x in memoryview(samples))).tobytes()


def pcm16_to_float(pcm: bytes) -> array:
    """Little-endian int16 bytes as array('f') in [-1, 1)."""
    if np is not None:
        out = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
        return array("f", out.tobytes())
    ints = array("h", pcm)
    return array("f", (v / 32768.0 for v in ints))


class StreamResampler:
    """Windowed-sinc resampling (Hann, 16 zero crossings a side) of a stream pushed
    in pieces: each piece's output is exact, as if the whole stream were resampled
    at once, because the last taps' worth of input is kept for the next piece."""

    HALF = 16

    def __init__(self, source_rate: int, target_rate: int) -> None:
        if np is None:
            raise ValueError(f"resampling {source_rate} -> {target_rate} Hz needs numpy on this host")
        self.step = source_rate / target_rate
        self.cutoff = min(1.0, target_rate / source_rate) * 0.97
        self.buffer = np.zeros(self.HALF, dtype=np.float64)  # zeros before the first sample
        self.position = float(self.HALF)  # where in buffer the next output sample lies

    def push(self, samples: Any, final: bool = False) -> array:
        data = np.frombuffer(memoryview(samples).cast("B"), dtype=np.float32).astype(np.float64)
        buffer = np.concatenate([self.buffer, data, np.zeros(self.HALF + 1) if final else np.zeros(0)])
        last = len(buffer) - self.HALF - 1  # the furthest centre whose taps are all there
        count = int(math.floor((last - self.position) / self.step)) + 1 if last >= self.position else 0
        if final:
            # Only the outputs that the real input reaches.
            real_end = len(buffer) - self.HALF - 1
            count = max(0, min(count, int(math.ceil((real_end - self.position) / self.step))))
        taps = np.arange(-self.HALF + 1, self.HALF + 1)
        t = self.position + np.arange(count) * self.step
        base = np.floor(t).astype(np.int64)
        distance = (t - base)[:, None] - taps[None, :]
        window = 0.5 + 0.5 * np.cos(np.pi * np.clip(distance / self.HALF, -1.0, 1.0))
        weights = self.cutoff * np.sinc(self.cutoff * distance) * window
        out = (buffer[base[:, None] + taps[None, :]] * weights).sum(axis=1) if count else np.zeros(0)
        self.position += count * self.step
        keep_from = max(0, int(math.floor(self.position)) - self.HALF)
        self.buffer = buffer[keep_from:]
        self.position -= keep_from
        return array("f", out.astype(np.float32).tobytes())
