"""Resample: band-limited polyphase windowed-sinc resampling, the same filter and
the same streaming arithmetic as web/core/nodes/audio/resample-filter.ts and
resampler.ts, so a stream resampled here matches the runtime's (to float32
rounding), however its input is chunked. numpy computes the filter when present;
plain Python does otherwise."""

from __future__ import annotations

import math
from array import array
from functools import lru_cache
from operator import mul
from typing import Any, List, Optional

from ...core.node import Node
from ...data import RuntimeData
from ._support import raw, StreamFormat, assert_finite, audio_in, check_number, numpy_or_none

#: zero crossings, stopband attenuation in dB: web/core/nodes/audio/resample-filter.ts's
#: RESAMPLE_QUALITIES (tests/node/python-audio-constants.test.ts checks they agree).
QUALITIES = {
    "low": (8, 60),
    "medium": (16, 80),
    "high": (48, 140),
    "best": (64, 140),
}
DEFAULT_QUALITY = "high"
_BLOCK = 2048  # outputs per numpy block: bounds the gather matrix's memory


def _bessel_i0(x: float) -> float:
    total = term = 1.0
    q = x * x / 4
    k = 1
    while term > total * 1e-17:
        term *= q / (k * k)
        total += term
        k += 1
    return total


class PolyphaseFilter:
    """up rows of taps float32 coefficients; output rate / input rate = up / down.
    Designed once per (rates, quality) in a process: the design is the costly part."""

    def __new__(cls, from_rate: int, to_rate: int, quality: str = DEFAULT_QUALITY) -> "PolyphaseFilter":
        return _design(from_rate, to_rate, quality, numpy_or_none() is not None)


@lru_cache(maxsize=32)
def _design(from_rate: int, to_rate: int, quality: str, with_numpy: bool) -> PolyphaseFilter:
    f = object.__new__(PolyphaseFilter)
    divisor = math.gcd(from_rate, to_rate)
    f.up, f.down = to_rate // divisor, from_rate // divisor
    zero_crossings, attenuation = QUALITIES[quality]
    # Kaiser's formulas, in the lower-rate domain where the filter is 2 * zero_crossings long.
    transition = (attenuation - 8) / (2.285 * (2 * zero_crossings - 1) * math.pi)
    beta = (
        0.1102 * (attenuation - 8.7)
        if attenuation > 50
        else 0.5842 * (attenuation - 21) ** 0.4 + 0.07886 * (attenuation - 21)
    )
    lower = min(1.0, f.up / f.down)  # lower Nyquist / input Nyquist
    cutoff = lower * (1 - transition / 2)
    half = math.ceil(zero_crossings / lower)
    f.taps = taps = 2 * half
    np = numpy_or_none() if with_numpy else None
    if np is not None:
        t = (np.arange(f.up)[:, None] / f.up + half - 1 - np.arange(taps)[None, :]).astype(np.float64)
        u = t / half
        inside = np.abs(u) < 1
        window = np.where(inside, np.i0(beta * np.sqrt(np.where(inside, 1 - u * u, 0))) / np.i0(beta), 0.0)
        rows = cutoff * np.sinc(cutoff * t) * window
        f.table = array("f", (rows / rows.sum(axis=1, keepdims=True)).astype(np.float32).tobytes())
        return f
    i0_beta = _bessel_i0(beta)
    table = array("f")
    for phase in range(f.up):
        row = []
        for k in range(taps):
            t = phase / f.up + half - 1 - k
            u = t / half
            window = 0.0 if abs(u) >= 1 else _bessel_i0(beta * math.sqrt(1 - u * u)) / i0_beta
            x = cutoff * t
            sinc = 1.0 if x == 0 else math.sin(math.pi * x) / (math.pi * x)
            row.append(cutoff * sinc * window)
        total = sum(row)
        table.extend(v / total for v in row)  # unit gain at DC for every phase
    f.table = table
    return f


class StreamingResampler:
    """Interleaved float32 in, interleaved float32 out; each push emits the outputs
    whose filter window is complete, flush() the rest (the input padded with silence)."""

    def __init__(self, filter: PolyphaseFilter, channels: int) -> None:
        self.filter, self.channels = filter, channels
        self._rows = [filter.table[p * filter.taps : (p + 1) * filter.taps].tolist() for p in range(filter.up)]
        self._table64: Any = None  # the table as a float64 numpy matrix, made on first use
        self._reset()

    def _reset(self) -> None:
        history = self.filter.taps // 2 - 1  # zeros first: the first output's window is centred on sample 0
        self._inputs = [array("f", bytes(4 * history)) for _ in range(self.channels)]
        self._pos = 0  # next output's position in the buffers, in 1/up input samples
        self._frames_in = 0
        self._frames_out = 0

    def push(self, samples: Any) -> array:
        frames = len(samples) // self.channels
        self._frames_in += frames
        return self._piece(samples, frames)

    def flush(self) -> array:
        f = self.filter
        expected = -(-self._frames_in * f.up // f.down)
        padding = array("f", bytes(4 * (f.taps // 2) * self.channels))
        tail = self._piece(padding, f.taps // 2, expected - self._frames_out)
        self._reset()
        return tail

    def _piece(self, samples: Any, frames: int, limit: Optional[int] = None) -> array:
        f, ch = self.filter, self.channels
        view = memoryview(samples).cast("B").cast("f") if not isinstance(samples, array) else samples
        for c, buffer in enumerate(self._inputs):
            if ch == 1:
                buffer.frombytes(raw(view))
            else:
                buffer.extend(view[c::ch])
        available = len(self._inputs[0])
        possible = -(-((available - f.taps + 1) * f.up - self._pos) // f.down)
        count = max(0, possible if limit is None else min(possible, limit))
        out = array("f", bytes(4 * count * ch))
        for c, buffer in enumerate(self._inputs):
            values = self._run(buffer, count)
            if ch == 1:
                out = values
            else:
                out[c::ch] = values
        self._frames_out += count
        self._pos += count * f.down
        consumed = self._pos // f.up
        for buffer in self._inputs:
            del buffer[:consumed]
        self._pos -= consumed * f.up
        return out

    def _run(self, buffer: array, count: int) -> array:
        f = self.filter
        np = numpy_or_none()
        if np is not None and count:
            return self._run_numpy(np, buffer, count)
        rows, taps, up, down = self._rows, f.taps, f.up, f.down
        values: List[float] = [0.0] * count
        pos = self._pos
        for k in range(count):
            base, phase = divmod(pos, up)
            values[k] = sum(map(mul, rows[phase], buffer[base : base + taps]))
            pos += down
        return array("f", values)

    def _run_numpy(self, np: Any, buffer: array, count: int) -> array:
        f = self.filter
        table = self._table64
        if table is None:
            table = self._table64 = np.frombuffer(f.table, dtype=np.float32).reshape(f.up, f.taps).astype(np.float64)
        data = np.frombuffer(buffer, dtype=np.float32).astype(np.float64)
        offsets = np.arange(f.taps)
        out = np.empty(count, dtype=np.float32)
        for start in range(0, count, _BLOCK):
            n = min(_BLOCK, count - start)
            positions = self._pos + f.down * np.arange(start, start + n, dtype=np.int64)
            base, phase = np.divmod(positions, f.up)
            out[start : start + n] = np.einsum("ij,ij->i", table[phase], data[base[:, None] + offsets])
        return array("f", out.tobytes())


class Resample(Node):
    """Converts audio to target_rate; with source_rate, input at any other rate is an error."""

    def __init__(
        self, name: Optional[str] = None, target_rate: int = 16000, source_rate: Optional[int] = None,
        quality: str = DEFAULT_QUALITY,
    ) -> None:
        check_number("Resample", "target_rate", target_rate, 1000, 384_000, integer=True)
        if source_rate is not None:
            check_number("Resample", "source_rate", source_rate, 1000, 384_000, integer=True)
        if quality not in QUALITIES:
            raise ValueError(f"Resample: quality must be one of {', '.join(QUALITIES)}, found {quality!r}")
        given = {"source_rate": source_rate} if source_rate is not None else {}
        super().__init__(name, target_rate=target_rate, quality=quality, **given)
        self.target_rate, self.quality = target_rate, quality
        self._format = StreamFormat("Resample", source_rate)
        self._resampler: Optional[StreamingResampler] = None
        self._resampler_rate = 0
        self._start_us: Optional[float] = None
        self._frames_out = 0

    def process(self, data: Any) -> Any:
        audio = audio_in(data, "Resample", self.name)
        assert_finite(audio, "Resample")
        if self._format.check(audio):
            self._start_us, self._frames_out = audio.timestamp_us, 0
            r = self._resampler
            reusable = r is not None and self._resampler_rate == audio.sample_rate and r.channels == audio.channels
            if audio.sample_rate != self.target_rate and not reusable:
                self._resampler = StreamingResampler(
                    PolyphaseFilter(audio.sample_rate, self.target_rate, self.quality), audio.channels
                )
                self._resampler_rate = audio.sample_rate
        if audio.sample_rate == self.target_rate:
            return audio
        return self._frame(self._resampler.push(audio.samples))  # type: ignore[union-attr]

    def flush(self) -> Any:
        fmt = self._format
        active = fmt.sample_rate not in (0, self.target_rate)
        tail = self._frame(self._resampler.flush()) if active else None  # type: ignore[union-attr]
        fmt.reset()
        return tail

    def _frame(self, samples: array) -> Optional[RuntimeData]:
        if not samples:
            return None
        channels = self._format.channels
        at = None if self._start_us is None else self._start_us + self._frames_out / self.target_rate * 1e6
        self._frames_out += len(samples) // channels
        return RuntimeData.audio(samples, self.target_rate, channels, at)
