"""AudioSource: a pipeline's audio from a WAV file or a generated signal, in chunks
of chunk_ms. A source runs in Python on both paths (core/node.py's SourceNode): on
the runtime path its chunks are the manifest's input."""

from __future__ import annotations

import math
import random
from array import array
from typing import Any, Iterator, Optional

from ...core.node import SourceNode
from ...data import RuntimeData
from ._support import check_number, js_round
from .wav import read_wav

SIGNALS = ("sine", "silence", "noise")


class AudioSource(SourceNode):
    """path: a WAV file (its own rate and channels). Otherwise a signal: "sine" at
    frequency Hz, "silence", or uniform "noise" (seeded: the same every run), of
    amplitude, duration_s long, at sample_rate with channels identical channels."""

    def __init__(
        self, name: Optional[str] = None, path: Optional[str] = None, signal: str = "sine",
        frequency: float = 440.0, amplitude: float = 0.5, duration_s: float = 1.0, sample_rate: int = 16000,
        channels: int = 1, chunk_ms: float = 20.0, seed: int = 0,
    ) -> None:
        if signal not in SIGNALS:
            raise ValueError(f"AudioSource: signal must be one of {', '.join(SIGNALS)}, found {signal!r}")
        if path is not None and not isinstance(path, str):
            raise ValueError(f"AudioSource: path must be the path of a WAV file, found {path!r}")
        check_number("AudioSource", "frequency", frequency, 0, 192_000)
        check_number("AudioSource", "amplitude", amplitude, 0, 1)
        check_number("AudioSource", "duration_s", duration_s, 0, 24 * 3600)
        check_number("AudioSource", "sample_rate", sample_rate, 1000, 384_000, integer=True)
        check_number("AudioSource", "channels", channels, 1, 64, integer=True)
        check_number("AudioSource", "chunk_ms", chunk_ms, 1, 3_600_000)
        given = {"path": path} if path is not None else {
            "signal": signal, "frequency": frequency, "amplitude": amplitude, "duration_s": duration_s,
            "sample_rate": sample_rate, "channels": channels, "seed": seed,
        }
        super().__init__(name, chunk_ms=chunk_ms, **given)
        self.path, self.signal, self.frequency, self.amplitude = path, signal, frequency, amplitude
        self.duration_s, self.sample_rate, self.channels = duration_s, sample_rate, channels
        self.chunk_ms, self.seed = chunk_ms, seed

    def generate(self) -> Iterator[RuntimeData]:
        if self.path is not None:
            samples, rate, channels = read_wav(self.path)
            frames = len(samples) // channels
            chunk = max(1, js_round(rate * self.chunk_ms / 1000))
            for start in range(0, frames, chunk):
                piece = samples[start * channels : min(frames, start + chunk) * channels]
                yield RuntimeData.audio(piece, rate, channels, start / rate * 1e6)
            return
        rate, channels = self.sample_rate, self.channels
        total = js_round(self.duration_s * rate)
        chunk = max(1, js_round(rate * self.chunk_ms / 1000))
        noise = random.Random(self.seed)
        step = 2 * math.pi * self.frequency / rate
        for start in range(0, total, chunk):
            count = min(chunk, total - start)
            if self.signal == "sine":
                values = [self.amplitude * math.sin(step * n) for n in range(start, start + count)]
            elif self.signal == "noise":
                values = [noise.uniform(-self.amplitude, self.amplitude) for _ in range(count)]
            else:
                values = [0.0] * count
            mono = array("f", values)
            if channels == 1:
                piece = mono
            else:
                piece = array("f", bytes(4 * count * channels))
                for c in range(channels):
                    piece[c::channels] = mono
            yield RuntimeData.audio(piece, rate, channels, start / rate * 1e6)
