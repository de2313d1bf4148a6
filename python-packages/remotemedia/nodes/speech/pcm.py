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
    at once, because the last taps' worth of input is kept for the next piece.
    Positions are exact integers (output n sits at input n * source / target), and
    the weights of each of the target / gcd phases are computed once."""

    HALF = 16

    def __init__(self, source_rate: int, target_rate: int) -> None:
        if np is None:
            raise ValueError(f"resampling {source_rate} -> {target_rate} Hz needs numpy on this host")
        g = math.gcd(source_rate, target_rate)
        self.up, self.down = target_rate // g, source_rate // g  # output n at input n * down / up
        cutoff = min(1.0, target_rate / source_rate) * 0.97
        taps = np.arange(-self.HALF + 1, self.HALF + 1)
        distance = (np.arange(self.up) / self.up)[:, None] - taps[None, :]
        window = 0.5 + 0.5 * np.cos(np.pi * np.clip(distance / self.HALF, -1.0, 1.0))
        self.weights = cutoff * np.sinc(cutoff * distance) * window  # one row per phase
        self.taps = taps
        self.buffer = np.zeros(self.HALF, dtype=np.float64)  # zeros before the first sample
        self.dropped = -self.HALF  # stream index of buffer[0]
        self.n = 0  # the next output sample
        self.received = 0  # input samples so far

    def push(self, samples: Any, final: bool = False) -> array:
        data = np.frombuffer(memoryview(samples).cast("B"), dtype=np.float32).astype(np.float64)
        self.received += len(data)
        buffer = np.concatenate([self.buffer, data, np.zeros(self.HALF + 1) if final else np.zeros(0)])
        # Output n needs input up to n * down / up + HALF; at the end, only the outputs
        # whose position lies inside the real input are made.
        reach = self.dropped + len(buffer) - self.HALF - 1
        limit = reach if not final else min(reach, self.received - 1)
        last = (limit * self.up) // self.down if limit >= 0 else -1
        if final:
            last = min(last, -(-self.received * self.up // self.down) - 1)
        count = max(0, last - self.n + 1)
        n = self.n + np.arange(count, dtype=np.int64)
        position = n * self.down
        base, phase = position // self.up, position % self.up
        index = (base - self.dropped)[:, None] + self.taps[None, :]
        out = (buffer[index] * self.weights[phase]).sum(axis=1) if count else np.zeros(0)
        self.n += count
        keep_from = max(0, (self.n * self.down) // self.up - self.HALF - self.dropped)
        self.buffer = buffer[keep_from:]
        self.dropped += keep_from
        return array("f", out.astype(np.float32).tobytes())
