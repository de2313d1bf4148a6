"""Resample: band-limited polyphase resampling (equiripple or Kaiser-windowed sinc
filters, resample_remez.py), the same filters, stages
and streaming arithmetic as web/core/nodes/audio/resample-filter.ts, resampler.ts and
resample-cascade.ts (large downsampling ratios at the 140 dB qualities first halve the
rate with half-band stages, resample_halfband.py), so a stream resampled here matches
the runtime's (to float32 rounding), however its input is chunked. numpy computes the
filters when present; plain Python does otherwise."""

from __future__ import annotations

import math
from array import array
from functools import lru_cache
from operator import mul
from typing import Any, List, Optional, Tuple

from ...core.node import Node
from ...data import RuntimeData
from ._support import raw, StreamFormat, assert_finite, audio_in, check_number, numpy_or_none
from .resample_halfband import HalfbandDecimator, HalfbandFilter, bessel_i0, design_halfband
from .resample_remez import REMEZ_MAX_ITERATIONS, RemezError, RemezResult, shortest_lowpass

#: zero crossings, stopband attenuation in dB: web/core/nodes/audio/resample-filter.ts's
#: RESAMPLE_QUALITIES (tests/node/python-audio-constants.test.ts checks they agree).
QUALITIES = {
    "low": (8, 60),
    "medium": (16, 80),
    "high": (48, 140),
    "best": (64, 140),
}
DEFAULT_QUALITY = "high"
#: resample-filter.ts's HALFBAND_MIN_ATTENUATION_DB: half-band stages only at the 140 dB
#: qualities (at 60/80 dB a rational last stage's images fold back in band, audibly).
HALFBAND_MIN_ATTENUATION_DB = 120
_BLOCK = 2048  # outputs per numpy block: bounds the gather matrix's memory


class PolyphaseFilter:
    """up rows of taps float32 coefficients; output rate / input rate = up / down.
    Designed once per (rates, quality) in a process: the design is the costly part."""

    def __new__(cls, from_rate: int, to_rate: int, quality: str = DEFAULT_QUALITY) -> "PolyphaseFilter":
        return _design(from_rate, to_rate, quality, numpy_or_none() is not None)


#: resample-filter.ts's equiripple constants: the passband error of the equiripple
#: designs (before each row is scaled to unit DC gain), the stopband margin they are
#: designed with, the float32 table's check margin, and the stopbands they are used at.
EQUIRIPPLE_PASS_RIPPLE = 3e-5
EQUIRIPPLE_STOP_MARGIN_DB = 2
_CHECK_MARGIN_DB = 0.2
EQUIRIPPLE_MIN_ATTENUATION_DB = 120
#: resample-filter.ts's EQUIRIPPLE_IMAGE_ATTENUATION_DB: at up 2 the image band
#: [0.5 - pass_edge, 0.5] of the prototype folds back in band, so it is weighted deeper
#: (designed _IMAGE_DESIGN_DB, the float32 table checked to this).
EQUIRIPPLE_IMAGE_ATTENUATION_DB = 146
_IMAGE_DESIGN_DB = 157


def _transition(quality: str) -> float:
    zero_crossings, attenuation = QUALITIES[quality]
    return (attenuation - 8) / (2.285 * (2 * zero_crossings - 1) * math.pi)


@lru_cache(maxsize=32)
def _design(
    from_rate: int, to_rate: int, quality: str, with_numpy: bool, max_remez_iterations: int = REMEZ_MAX_ITERATIONS
) -> PolyphaseFilter:
    """resample-filter.ts's designPolyphaseFilter: equiripple (Remez) where every row is
    symmetric (up <= 2) at the 140 dB qualities, checked as float32; else, or when the
    exchange fails (max_remez_iterations: for tests), the Kaiser-windowed sinc."""
    f = object.__new__(PolyphaseFilter)
    divisor = math.gcd(from_rate, to_rate)
    f.up, f.down = to_rate // divisor, from_rate // divisor
    attenuation = QUALITIES[quality][1]
    np = numpy_or_none() if with_numpy else None
    if f.up <= 2 and attenuation >= EQUIRIPPLE_MIN_ATTENUATION_DB:
        lower = min(1.0, f.up / f.down)
        stop_ripple = 10 ** (-attenuation / 20)
        stop_edge = lower / (2 * f.up)
        up = f.up

        pass_edge = lower * (1 - _transition(quality)) / (2 * up)
        image_edge = 0.5 - pass_edge if up == 2 else None

        def accept(design: RemezResult) -> bool:
            table = _equiripple_table(design.taps, up)
            stop, passband = _table_gains(table, up, pass_edge, stop_edge, np)
            if not (stop <= stop_ripple * 10 ** (-_CHECK_MARGIN_DB / 20) and passband <= 2 * EQUIRIPPLE_PASS_RIPPLE):
                return False
            if image_edge is None:
                return True
            image = _table_gains(table, up, pass_edge, image_edge, np)[0]
            return image <= 10 ** (-(EQUIRIPPLE_IMAGE_ATTENUATION_DB + _CHECK_MARGIN_DB) / 20)

        try:
            best = shortest_lowpass(
                pass_edge, stop_edge, EQUIRIPPLE_PASS_RIPPLE,
                stop_ripple * 10 ** (-EQUIRIPPLE_STOP_MARGIN_DB / 20), up, up - 1, zero_at_half=up == 2,
                max_iterations=max_remez_iterations, accept=accept, np=np,
                far_edge=image_edge, far_ripple=None if image_edge is None else 10 ** (-_IMAGE_DESIGN_DB / 20),
            )
        except RemezError:
            pass  # not shipped: the Kaiser design is
        else:
            f.taps, f.table = _equiripple_table(best.taps, up)
            f.design = "equiripple"
            return f
    f.taps, f.table = _kaiser_table(f.up, f.down, quality, np)
    f.design = "kaiser"
    return f


def _equiripple_table(h: List[float], up: int) -> Tuple[int, array]:
    """resample-filter.ts's equirippleTable: row p tap k holds h[p + up (half - 1 - k)]."""
    big_m = (len(h) - 1) // 2
    half = big_m // up + 1
    taps = 2 * half
    table = array("f")
    for phase in range(up):
        row = []
        total = 0.0
        for k in range(taps):
            m = phase + up * (half - 1 - k)
            v = h[big_m + m] if abs(m) <= big_m else 0.0
            row.append(v)
            total += v
        table.extend(v / total for v in row)  # unit gain at DC for every phase
    return taps, table


def _table_gains(filter: Tuple[int, array], up: int, pass_edge: float, stop_edge: float, np: Any) -> Tuple[float, float]:
    """resample-filter.ts's tableGains: the float32 table's peak stopband gain and peak
    passband error, by Clenshaw's recurrence on 8 points per extremal spacing."""
    taps, table = filter
    half = taps // 2
    big_m = up * half
    c = [0.0] * (big_m + 1)
    for p in range(up):
        for k in range(taps):
            m = p + up * (half - 1 - k)
            c[abs(m)] += table[p * taps + k] / up

    def peak(lo: float, hi: float, target: float) -> float:
        points = math.ceil((hi - lo) * 16 * big_m)
        xs = [math.cos(2 * math.pi * (lo + (hi - lo) * i / points)) for i in range(points + 1)]
        if np is not None:
            x = np.array(xs)
            b1 = np.zeros_like(x)
            b2 = np.zeros_like(x)
            for n in range(big_m, 0, -1):
                b1, b2 = 2 * x * b1 - b2 + c[n], b1
            return float(np.abs(x * b1 - b2 + c[0] - target).max())
        worst = 0.0
        for x in xs:
            b1 = b2 = 0.0
            for n in range(big_m, 0, -1):
                b1, b2 = 2 * x * b1 - b2 + c[n], b1
            worst = max(worst, abs(x * b1 - b2 + c[0] - target))
        return worst

    return peak(stop_edge, 0.5, 0), peak(0, pass_edge, 1)


def _kaiser_table(up: int, down: int, quality: str, np: Any) -> Tuple[int, array]:
    zero_crossings, attenuation = QUALITIES[quality]
    # Kaiser's formulas, in the lower-rate domain where the filter is 2 * zero_crossings long.
    transition = _transition(quality)
    beta = (
        0.1102 * (attenuation - 8.7)
        if attenuation > 50
        else 0.5842 * (attenuation - 21) ** 0.4 + 0.07886 * (attenuation - 21)
    )
    lower = min(1.0, up / down)  # lower Nyquist / input Nyquist
    cutoff = lower * (1 - transition / 2)
    half = math.ceil(zero_crossings / lower)
    taps = 2 * half
    if np is not None:
        t = (np.arange(up)[:, None] / up + half - 1 - np.arange(taps)[None, :]).astype(np.float64)
        u = t / half
        inside = np.abs(u) < 1
        window = np.where(inside, np.i0(beta * np.sqrt(np.where(inside, 1 - u * u, 0))) / np.i0(beta), 0.0)
        rows = cutoff * np.sinc(cutoff * t) * window
        return taps, array("f", (rows / rows.sum(axis=1, keepdims=True)).astype(np.float32).tobytes())
    i0_beta = bessel_i0(beta)
    table = array("f")
    for phase in range(up):
        row = []
        for k in range(taps):
            t = phase / up + half - 1 - k
            u = t / half
            window = 0.0 if abs(u) >= 1 else bessel_i0(beta * math.sqrt(1 - u * u)) / i0_beta
            x = cutoff * t
            sinc = 1.0 if x == 0 else math.sin(math.pi * x) / (math.pi * x)
            row.append(cutoff * sinc * window)
        total = sum(row)
        table.extend(v / total for v in row)  # unit gain at DC for every phase
    return taps, table


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


def plan_resample(
    from_rate: int, to_rate: int, quality: str = DEFAULT_QUALITY
) -> Tuple[List[HalfbandFilter], PolyphaseFilter]:
    """resample-filter.ts's planResample: at the 140 dB qualities, while the rate is at
    least 2.5 times the target and even, a half-band stage halves it (flat to the
    output's Nyquist: the last stage shapes the band edge alone); then one polyphase
    filter from what is left to to_rate."""
    attenuation = QUALITIES[quality][1]
    halfbands: List[HalfbandFilter] = []
    rate = from_rate
    while attenuation >= HALFBAND_MIN_ATTENUATION_DB and rate >= 2.5 * to_rate and rate % 2 == 0:
        halfbands.append(design_halfband(to_rate / 2 / rate, attenuation))
        rate //= 2
    return halfbands, PolyphaseFilter(rate, to_rate, quality)


class Resampler:
    """resample-cascade.ts's Resampler: the half-band decimators, then the polyphase
    stage; ceil(frames in * to_rate / from_rate) outputs in all, however chunked."""

    def __init__(self, from_rate: int, to_rate: int, channels: int, quality: str = DEFAULT_QUALITY) -> None:
        self.from_rate, self.to_rate, self.channels = from_rate, to_rate, channels
        halfbands, last = plan_resample(from_rate, to_rate, quality)
        self._halfbands = [HalfbandDecimator(f, channels) for f in halfbands]
        self._last = StreamingResampler(last, channels)
        self._frames_in = self._frames_out = 0

    def push(self, samples: Any) -> array:
        self._frames_in += len(samples) // self.channels
        for stage in self._halfbands:
            samples = stage.push(samples)
        return self._count(self._last.push(samples))

    def flush(self) -> array:
        expected = -(-self._frames_in * self.to_rate // self.from_rate)
        tail = array("f")
        for i, stage in enumerate(self._halfbands):
            # The tail of stage i goes through the stages after it before they flush.
            x = stage.flush()
            for later in self._halfbands[i + 1 :]:
                x = later.push(x)
            tail.extend(self._last.push(x))
        tail.extend(self._last.flush())
        del tail[max(0, expected - self._frames_out) * self.channels :]
        self._frames_in = self._frames_out = 0
        return tail

    def _count(self, out: array) -> array:
        self._frames_out += len(out) // self.channels
        return out


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
        self._resampler: Optional[Resampler] = None
        self._resampler_rate = 0
        self._start_us: Optional[float] = None
        self._frames_out = 0

    def initialize(self) -> None:
        # The filters' design (a Remez exchange: 0.6 s in plain Python at 48 -> 16 kHz)
        # is kept per rates and quality: with source_rate known it is paid here, not in
        # the first block's process.
        source_rate = self._format.expected_rate
        if source_rate is not None and source_rate != self.target_rate:
            plan_resample(source_rate, self.target_rate, self.quality)

    def process(self, data: Any) -> Any:
        audio = audio_in(data, "Resample", self.name)
        assert_finite(audio, "Resample")
        if self._format.check(audio):
            self._start_us, self._frames_out = audio.timestamp_us, 0
            r = self._resampler
            reusable = r is not None and self._resampler_rate == audio.sample_rate and r.channels == audio.channels
            if audio.sample_rate != self.target_rate and not reusable:
                self._resampler = Resampler(audio.sample_rate, self.target_rate, audio.channels, self.quality)
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
