"""Half-band decimation by 2, the first stage(s) of large downsampling ratios: the
twin of web/core/nodes/audio/resample-filter.ts's designHalfband (equiripple, or
Kaiser-windowed) and
resample-halfband.ts's HalfbandDecimator (same taps, same outputs per push, same
state), so the Python cascade matches the runtime's to float32 rounding.

Output j is centred on input sample 2j (no delay) and does not depend on how the
input is chunked. The filter's cutoff is a quarter of the input rate, so every tap
at an even offset from the centre is zero but the centre: output j reads only the
even buffer positions 2j, 2j + 2, ..., 2j + 4 half - 2, plus the centre 2j + 2 half - 1."""

from __future__ import annotations

import math
from array import array
from functools import lru_cache
from operator import mul
from typing import Any, List, NamedTuple, Optional

from ._support import raw, numpy_or_none


def bessel_i0(x: float) -> float:
    """Modified Bessel function of the first kind, order 0 (power series): the Kaiser
    window of both designs, computed as resample-filter.ts's besselI0."""
    total = term = 1.0
    q = x * x / 4
    k = 1
    while term > total * 1e-17:
        term *= q / (k * k)
        total += term
        k += 1
    return total


class HalfbandFilter(NamedTuple):
    half: int  # the window spans 4 * half - 1 input samples around its centre
    taps: array  # 2 * half float32 taps at the odd offsets -(2 half - 1), ..., -1, 1, ..., 2 half - 1
    centre: float  # the centre tap (about 0.5), not rounded, as in the TypeScript design


#: resample-filter.ts's CHECK_MARGIN_DB and EQUIRIPPLE_MIN_ATTENUATION_DB.
_CHECK_MARGIN_DB = 0.2
_EQUIRIPPLE_MIN_ATTENUATION_DB = 120


@lru_cache(maxsize=32)
def design_halfband(pass_edge: float, attenuation: float) -> HalfbandFilter:
    """resample-filter.ts's designHalfband: the shortest half-band filter flat on
    [0, pass_edge) and attenuation dB down on [rate / 2 - pass_edge, rate / 2], pass_edge
    a fraction of the input rate. Equiripple (resample_remez.py; with mirrored bands and
    equal weights the Remez solution is itself half-band) from Kaiser's length estimate
    up until the float32 taps reach the stopband; the Kaiser-windowed design when the
    exchange fails. Plain Python on both paths: a few dozen taps, in the TypeScript order."""
    return _equiripple_halfband(pass_edge, attenuation) or kaiser_halfband(pass_edge, attenuation)


def _halfband_taps(side: List[float]) -> HalfbandFilter:
    half = len(side)
    total = 0.0
    for v in side:  # left to right, as Float64Array.reduce sums
        total += v
    total = 0.5 + 2 * total  # unit gain at DC
    taps = array("f", [side[half - 1 - i] / total for i in range(half)] + [v / total for v in side])
    return HalfbandFilter(half, taps, 0.5 / total)


def halfband_stop_gain(filter: HalfbandFilter, start: float) -> float:
    """resample-filter.ts's halfbandStopGain: the peak gain over [start, 0.5] as the
    kernels compute it (the centre tap in float32)."""
    half, taps = filter.half, filter.taps
    centre = array("f", [filter.centre])[0]
    points = math.ceil((0.5 - start) * 64 * 4 * half)
    peak = 0.0
    for i in range(points + 1):
        f = start + (0.5 - start) * i / points
        h = centre
        for j in range(half):
            h += 2 * taps[half + j] * math.cos(2 * math.pi * f * (2 * j + 1))
        peak = max(peak, abs(h))
    return peak


def _equiripple_halfband(pass_edge: float, attenuation: float) -> Optional[HalfbandFilter]:
    from .resample_remez import MAX_REMEZ_TAPS, RemezError, remez_lowpass

    if attenuation < _EQUIRIPPLE_MIN_ATTENUATION_DB:
        return None
    transition = 0.5 - 2 * pass_edge
    bound = 10 ** (-(attenuation + _CHECK_MARGIN_DB) / 20)
    half = max(2, math.ceil((attenuation - 8) / (2.285 * 2 * math.pi * transition) / 4))
    try:
        while 4 * half - 1 <= MAX_REMEZ_TAPS:
            m = 2 * half - 1
            taps = remez_lowpass(m, pass_edge, 0.5 - pass_edge, 1.0).taps
            filter = _halfband_taps([taps[m + 2 * i + 1] for i in range(half)])
            if halfband_stop_gain(filter, 0.5 - pass_edge) <= bound:
                return filter
            half += 1
    except RemezError:
        pass  # not shipped: the Kaiser design is
    return None


def kaiser_halfband(pass_edge: float, attenuation: float) -> HalfbandFilter:
    """resample-filter.ts's kaiserHalfband."""
    transition = 0.5 - 2 * pass_edge
    beta = 0.1102 * (attenuation - 8.7)
    # Kaiser's length, rounded up so 2 half taps are a multiple of 8.
    half = 4 * math.ceil((attenuation - 8) / (2.285 * 2 * math.pi * transition) / 16)
    i0_beta = bessel_i0(beta)
    side = []  # taps at offsets 1, 3, ..., 2 half - 1
    for i in range(half):
        n = 2 * i + 1
        u = n / (2 * half)
        window = bessel_i0(beta * math.sqrt(1 - u * u)) / i0_beta
        side.append(math.sin(math.pi * n / 2) / (math.pi * n) * window)
    return _halfband_taps(side)


class HalfbandDecimator:
    """Interleaved float32 in, interleaved float32 at half the rate out; push emits
    the outputs whose window is complete, flush() the rest (the input padded with
    silence, ceil(frames in / 2) outputs in all) and starts afresh."""

    def __init__(self, filter: HalfbandFilter, channels: int) -> None:
        self.filter, self.channels = filter, channels
        self._taps = filter.taps.tolist()
        self._taps64: Any = None  # the taps as a float64 numpy vector, made on first use
        self._reset()

    def _reset(self) -> None:
        history = 2 * self.filter.half - 1  # zeros first: output 0's window is centred on sample 0
        self._inputs = [array("f", bytes(4 * history)) for _ in range(self.channels)]
        self._frames_in = 0
        self._frames_out = 0

    def push(self, samples: Any) -> array:
        frames = len(samples) // self.channels
        self._frames_in += frames
        return self._piece(samples, None)

    def flush(self) -> array:
        expected = -(-self._frames_in // 2)
        padding = array("f", bytes(4 * 2 * self.filter.half * self.channels))
        tail = self._piece(padding, expected - self._frames_out)
        self._reset()
        return tail

    def _piece(self, samples: Any, limit: Any) -> array:
        ch, half = self.channels, self.filter.half
        view = memoryview(samples).cast("B").cast("f") if not isinstance(samples, array) else samples
        for c, buffer in enumerate(self._inputs):
            if ch == 1:
                buffer.frombytes(raw(view))
            else:
                buffer.extend(view[c::ch])
        available = len(self._inputs[0])
        possible = (available - 4 * half + 3) // 2
        count = max(0, possible if limit is None else min(possible, limit))
        out = array("f", bytes(4 * count * ch))
        for c, buffer in enumerate(self._inputs):
            values = self._run(buffer, count)
            if ch == 1:
                out = values
            else:
                out[c::ch] = values
            del buffer[: 2 * count]
        self._frames_out += count
        return out

    def _run(self, buffer: array, count: int) -> array:
        np = numpy_or_none()
        half, centre = self.filter.half, self.filter.centre
        if np is not None and count:
            taps = self._taps64
            if taps is None:
                taps = self._taps64 = np.frombuffer(self.filter.taps, dtype=np.float32).astype(np.float64)
            data = np.frombuffer(buffer, dtype=np.float32).astype(np.float64)
            even = np.lib.stride_tricks.sliding_window_view(data[0::2], 2 * half)[:count]
            odd = data[2 * half - 1 : 2 * half - 1 + 2 * count : 2]
            # A row sum per output (not a matrix product, whose summation order depends on
            # how many rows there are): the same output however the input is chunked.
            return array("f", ((even * taps).sum(axis=1) + centre * odd).astype(np.float32).tobytes())
        taps, n = self._taps, 4 * half - 1
        values: List[float] = [0.0] * count
        for k in range(count):
            at = 2 * k
            values[k] = sum(map(mul, taps, buffer[at : at + n : 2])) + centre * buffer[at + 2 * half - 1]
        return array("f", values)
