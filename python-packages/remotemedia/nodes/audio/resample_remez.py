"""Parks-McClellan (Remez exchange) design of odd-length linear-phase low-pass filters:
the twin of web/core/nodes/audio/resample-remez.ts (same grid, same exchange, same
arithmetic in the same order), so the Python Resample picks the same lengths and taps.

A Kaiser window keeps the passband as flat as the stopband is deep (1e-7 at 140 dB);
an equiripple design with a looser passband reaches the same stopband at the same band
edges with fewer taps. numpy evaluates the error on the grid when given (the costly
part); plain Python does otherwise."""

from __future__ import annotations

import math
from typing import Any, Callable, List, NamedTuple, Optional, Sequence


#: Grid points per extremal; the EDGE_LOBES lobes next to the transition band get
#: EDGE_REFINE times as many (resample-remez.ts's constants).
GRID_DENSITY = 8
EDGE_LOBES = 2
EDGE_REFINE = 16
REMEZ_MAX_ITERATIONS = 40
#: The longest design attempted (taps): longer ones lose the exchange's alternation in
#: double precision, so the caller's fallback is used straight away.
MAX_REMEZ_TAPS = 541
_CONVERGED = 1e-6


class RemezError(ArithmeticError):
    """The exchange did not converge: the twin of the TypeScript RemoteMediaError of kind
    'node_failed' that remezLowpass throws. The resampler then designs with Kaiser."""

    kind = "node_failed"


class RemezResult(NamedTuple):
    taps: List[float]  # the 2 m + 1 taps, symmetric about tap m
    delta: float  # the passband's peak error on the grid
    iterations: int
    extremals: List[float]  # the last reference's frequencies


def _band_grid(lo: float, hi: float, r: int, fine_at_lo: bool) -> List[float]:
    step = 0.5 / (GRID_DENSITY * r)
    fine_width = min(hi - lo, EDGE_LOBES * 0.5 / r)
    coarse = max(1, math.ceil((hi - lo - fine_width) / step))
    fine = max(1, math.ceil(fine_width * EDGE_REFINE / step))
    out = [fine_width * i / fine for i in range(fine + 1)]
    out += [fine_width + (hi - lo - fine_width) * i / coarse for i in range(1, coarse + 1)]
    return [lo + d for d in out] if fine_at_lo else [hi - d for d in reversed(out)]


def _bary_weights(x: Sequence[float], n: int) -> List[float]:
    """resample-remez.ts's baryWeights: 1 / prod (x_k - x_j), scaled by one factor, each
    product kept as a mantissa and a count of 1e100s (they leave double's range)."""
    mant = []
    exps = []
    for k in range(n):
        d = 1.0
        e = 0
        xk = x[k]
        for j in range(n):
            if j == k:
                continue
            d *= 2 * (xk - x[j])
            if abs(d) > 1e100:
                d *= 1e-100
                e += 1
            elif abs(d) < 1e-100:
                d *= 1e100
                e -= 1
        mant.append(d)
        exps.append(e)
    least = min(exps)
    w = []
    for k in range(n):
        v = 1 / mant[k]
        e = least
        while e < exps[k] and v != 0:
            v *= 1e-100
            e += 1
        w.append(v)
    return w


def _interpolate(t: float, x: Sequence[float], bw: Sequence[float], y: Sequence[float], r: int) -> float:
    num = 0.0
    den = 0.0
    for k in range(r):
        d = t - x[k]
        if d == 0:
            return y[k]
        c = bw[k] / d
        num += c * y[k]
        den += c
    return num / den


def _nearest(grid: Sequence[float], f: float, start: int) -> int:
    i = start
    while i < len(grid) - 1 and abs(grid[i + 1] - f) <= abs(grid[i] - f):
        i += 1
    return i


def _fail(why: str, m: int, pass_edge: float, stop_edge: float, stop_weight: float) -> RemezError:
    return RemezError(
        f"remez_lowpass: the exchange {why} ({2 * m + 1} taps, bands {pass_edge}, {stop_edge}, "
        f"stop weight {stop_weight})",
    )


def remez_lowpass(
    m: int, pass_edge: float, stop_edge: float, stop_weight: float, zero_at_half: bool = False,
    max_iterations: int = REMEZ_MAX_ITERATIONS, start: Optional[List[float]] = None, np: Any = None,
    far_edge: float = 0.5, far_weight: float = 1.0,
) -> RemezResult:
    """resample-remez.ts's remezLowpass: the equiripple low-pass of 2 m + 1 taps, pass
    [0, pass_edge], stop [stop_edge, 0.5] (cycles per sample) weighted stop_weight; with
    zero_at_half, H(0.5) = 0; from far_edge to 0.5 the stop weight is stop_weight * far_weight
    (the image band at up 2, see LowpassSpec.farEdge). Raises RemezError when the exchange does
    not converge, so the caller falls back rather than ship a filter that misses its bounds."""
    if not (
        isinstance(m, int) and m >= 3 and 0 < pass_edge < stop_edge < 0.5 and stop_weight > 0
        and stop_edge <= far_edge <= 0.5 and far_weight >= 1
    ):
        raise ValueError(
            "remez_lowpass: needs an integer m >= 3, 0 < pass_edge < stop_edge < 0.5, stop_weight > 0 "
            f"and stop_edge <= far_edge <= 0.5 with far_weight >= 1, found m {m}, bands {pass_edge}, "
            f"{stop_edge}, stop weight {stop_weight}, far band from {far_edge} weighted {far_weight}",
        )
    r = m if zero_at_half else m + 1
    stop_grid = _band_grid(stop_edge, 0.5, r, True)
    if stop_edge < far_edge < 0.5 and far_edge not in stop_grid:
        # The weight steps up at far_edge, so the far band's weighted error peaks there.
        stop_grid.insert(next(i for i, f in enumerate(stop_grid) if f > far_edge), far_edge)
    if zero_at_half:
        stop_grid.pop()
    freqs = _band_grid(0, pass_edge, r, False) + stop_grid
    n = len(freqs)
    gx: List[float] = []
    gd: List[float] = []
    gw: List[float] = []
    for f in freqs:
        x = math.cos(2 * math.pi * f)
        in_pass = f <= pass_edge
        factor = 1 + x if zero_at_half else 1
        gx.append(x)
        gd.append(1 / factor if in_pass else 0)
        far = far_weight if f >= far_edge else 1
        gw.append((1 if in_pass else stop_weight * far) * factor)
    width = pass_edge + (0.5 - stop_edge)
    if start is not None and len(start) == r + 1:
        wanted = start
    else:
        wanted = []
        for k in range(r + 1):
            d = width * k / r
            wanted.append(d if d <= pass_edge else stop_edge + (d - pass_edge))
    ext: List[int] = []
    for f in wanted:
        i = _nearest(freqs, f, ext[-1] + 1 if ext else 0)
        ext.append(max(i, ext[-1] + 1 if ext else 0))
    if ext[-1] >= n:
        raise _fail("found too few grid points", m, pass_edge, stop_edge, stop_weight)
    if np is not None:
        ax, ad_, aw = np.array(gx), np.array(gd), np.array(gw)
    iteration = 0
    while True:
        iteration += 1
        x = [gx[i] for i in ext]
        ad = _bary_weights(x, r + 1)
        num = 0.0
        den = 0.0
        for k in range(r + 1):
            num += ad[k] * gd[ext[k]]
            den += (1 if k % 2 == 0 else -1) * ad[k] / gw[ext[k]]
        delta = num / den
        y = [gd[ext[k]] - (1 if k % 2 == 0 else -1) * delta / gw[ext[k]] for k in range(r)]
        bw = _bary_weights(x, r)
        if np is not None:
            err = _errors_numpy(np, ax, ad_, aw, x, bw, y, r)
        else:
            err = [gw[i] * (gd[i] - _interpolate(gx[i], x, bw, y, r)) for i in range(n)]
        alt: List[int] = []
        for i in range(n):
            if alt and (err[alt[-1]] > 0) == (err[i] > 0):
                if abs(err[i]) > abs(err[alt[-1]]):
                    alt[-1] = i
            else:
                alt.append(i)
        while len(alt) > r + 1:
            if len(alt) == r + 2:
                if abs(err[alt[0]]) < abs(err[alt[-1]]):
                    alt.pop(0)
                else:
                    alt.pop()
                continue
            at = 0
            for k in range(1, len(alt)):
                if abs(err[alt[k]]) < abs(err[alt[at]]):
                    at = k
            if at == 0 or at == len(alt) - 1:
                del alt[at]
                continue
            keep = at - 1 if abs(err[alt[at - 1]]) >= abs(err[alt[at + 1]]) else at + 1
            alt[at - 1 : at + 2] = [alt[keep]]
        if len(alt) < r + 1:
            raise _fail("lost its alternation", m, pass_edge, stop_edge, stop_weight)
        magnitudes = [abs(err[i]) for i in alt]
        lo, hi = min(magnitudes), max(magnitudes)
        if not (math.isfinite(hi) and math.isfinite(delta)):
            raise _fail("overflowed", m, pass_edge, stop_edge, stop_weight)
        if (hi - lo) / hi < _CONVERGED or alt == ext:

            def amplitude(t: float) -> float:
                return (1 + t if zero_at_half else 1) * _interpolate(t, x, bw, y, r)

            return RemezResult(_impulse_response(m, amplitude), abs(delta), iteration, [freqs[i] for i in ext])
        ext = alt
        if iteration >= max_iterations:
            raise _fail(f"did not converge in {max_iterations} iterations", m, pass_edge, stop_edge, stop_weight)


def _errors_numpy(np: Any, gx: Any, gd: Any, gw: Any, x: List[float], bw: List[float], y: List[float], r: int) -> List[float]:
    """The weighted error on the whole grid at once (the interpolant, barycentric)."""
    xr = np.array(x[:r])
    d = gx[:, None] - xr[None, :]
    exact = d == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.array(bw)[None, :] / np.where(exact, 1.0, d)
        values = (c @ np.array(y)) / c.sum(axis=1)
    hit = exact.any(axis=1)
    if hit.any():
        values[hit] = np.array(y)[exact[hit].argmax(axis=1)]
    return (gw * (gd - values)).tolist()


def _impulse_response(m: int, amplitude: Callable[[float], float]) -> List[float]:
    big_n = 2 * m + 1
    a = [amplitude(math.cos(2 * math.pi * k / big_n)) for k in range(m + 1)]
    taps = [0.0] * big_n
    for j in range(m + 1):
        s = a[0]
        for k in range(1, m + 1):
            s += 2 * a[k] * math.cos(2 * math.pi * ((j * k) % big_n) / big_n)
        taps[m + j] = s / big_n
        taps[m - j] = s / big_n
    return taps


def _respread(source: List[float], n: int) -> List[float]:
    out = []
    for k in range(n):
        at = k * (len(source) - 1) / (n - 1)
        i = min(len(source) - 2, math.floor(at))
        out.append(source[i] + (source[i + 1] - source[i]) * (at - i))
    return out


def shortest_lowpass(
    pass_edge: float, stop_edge: float, pass_ripple: float, stop_ripple: float, m_step: int, m_rem: int,
    zero_at_half: bool = False, max_iterations: int = REMEZ_MAX_ITERATIONS,
    accept: Callable[[RemezResult], bool] = lambda _: True, np: Any = None,
    far_edge: Optional[float] = None, far_ripple: Optional[float] = None,
) -> RemezResult:
    """resample-remez.ts's shortestLowpass: the shortest 2 m + 1 (m % m_step == m_rem)
    meeting both ripples and accept, from Kaiser's length estimate, each design started
    from the last one's extremals."""
    stop_weight = pass_ripple / stop_ripple
    far = (far_edge, stop_ripple / far_ripple) if far_edge is not None and far_ripple is not None else (0.5, 1.0)

    def design(m: int, prev: Optional[RemezResult] = None) -> RemezResult:
        start = _respread(prev.extremals, (m if zero_at_half else m + 1) + 1) if prev else None
        return remez_lowpass(m, pass_edge, stop_edge, stop_weight, zero_at_half, max_iterations, start, np, far[0], far[1])

    estimate = (-10 * math.log10(pass_ripple * stop_ripple) - 13) / (14.6 * (stop_edge - pass_edge)) + 1
    m = max(3, math.ceil((estimate - 1) / 2))
    m += ((m_rem - m) % m_step + m_step) % m_step
    if 2 * m + 1 > MAX_REMEZ_TAPS:
        raise RemezError(f"shortest_lowpass: {2 * m + 1} taps is beyond the {MAX_REMEZ_TAPS} the exchange designs reliably")

    def meets(r: RemezResult) -> bool:
        return r.delta <= pass_ripple and accept(r)

    best = design(m)
    if meets(best):
        while m - m_step >= 3:
            shorter = design(m - m_step, best)
            if not meets(shorter):
                break
            best = shorter
            m -= m_step
        return best
    while True:
        m += m_step
        if 2 * m + 1 > MAX_REMEZ_TAPS:
            raise RemezError(f"shortest_lowpass: {2 * m + 1} taps is beyond the {MAX_REMEZ_TAPS} the exchange designs reliably")
        best = design(m, best)
        if meets(best):
            return best
