"""LogMel: Whisper's log-mel spectrogram of 16 kHz mono audio, as
web/core/nodes/audio/log-mel.ts and log-mel-analyzer.ts compute it (the frames of
torch.stft(center=True, reflect) with Whisper's last frame dropped, periodic Hann,
the Slaney mel filterbank of mel-filterbank.ts, log10 clamped at 1e-10, then max - 8
and (x + 4) / 4), emitted on the same schedule: mode "stream" as frames complete,
clamped against the maximum so far; "utterance" once at the end. It needs numpy
(an FFT per frame in plain Python would be too slow to be of use): without it,
NumpyRequired says so."""

from __future__ import annotations

import math
from typing import Any, List, Optional

from ...core.errors import NumpyRequired
from ...core.node import Node
from ...data import InvalidData, RuntimeData
from ._support import StreamFormat, assert_finite, audio_in, numpy_or_none

SAMPLE_RATE, N_FFT, HOP = 16000, 400, 160
HALF = N_FFT // 2
MODES = ("stream", "utterance")


def _hz_to_mel(hz: float) -> float:
    f_sp, min_log_hz = 200 / 3, 1000
    return hz / f_sp if hz < min_log_hz else min_log_hz / f_sp + math.log(hz / min_log_hz) / (math.log(6.4) / 27)


def _mel_to_hz(mel: float) -> float:
    f_sp, min_log_mel = 200 / 3, 1000 / (200 / 3)
    return mel * f_sp if mel < min_log_mel else 1000 * math.exp(math.log(6.4) / 27 * (mel - min_log_mel))


def mel_filterbank(np: Any, n_mels: int) -> Any:
    """n_mels x 201 float32 weights, as melFilterbank(16000, 400, n_mels)."""
    bins = N_FFT // 2 + 1
    freqs = [i * SAMPLE_RATE / N_FFT for i in range(bins)]
    low, high = _hz_to_mel(0), _hz_to_mel(SAMPLE_RATE / 2)
    mel_f = [_mel_to_hz(low + (high - low) * i / (n_mels + 1)) for i in range(n_mels + 2)]
    weights = np.zeros((n_mels, bins), dtype=np.float32)
    for m in range(n_mels):
        enorm = 2 / (mel_f[m + 2] - mel_f[m])
        for b in range(bins):
            lower = (freqs[b] - mel_f[m]) / (mel_f[m + 1] - mel_f[m])
            upper = (mel_f[m + 2] - freqs[b]) / (mel_f[m + 2] - mel_f[m + 1])
            weights[m, b] = max(0.0, min(lower, upper)) * enorm
    return weights


class LogMel(Node):
    def __init__(self, name: Optional[str] = None, n_mels: int = 80, mode: str = "stream") -> None:
        if n_mels not in (80, 128):
            raise ValueError(f"LogMel: n_mels must be 80 or 128, found {n_mels!r}")
        if mode not in MODES:
            raise ValueError(f"LogMel: mode must be one of {', '.join(MODES)}, found {mode!r}")
        super().__init__(name, n_mels=n_mels, mode=mode)
        self.n_mels, self.mode = n_mels, mode
        self._format = StreamFormat("LogMel", SAMPLE_RATE)
        self._np: Any = None
        self._filters: Any = None
        self._reset()

    def _reset(self) -> None:
        self._held: Any = None  # samples from stream position _base on
        self._base = 0
        self._received = 0
        self._emitted = 0  # frames computed
        self._frames_out = 0  # frames sent
        self._max = -math.inf
        self._gathered: List[Any] = []
        self._start_us: Optional[float] = None

    def initialize(self) -> None:
        np = numpy_or_none()
        if np is None:
            raise NumpyRequired(self.name, "LogMel")
        self._np = np
        self._filters = mel_filterbank(np, self.n_mels).astype(np.float64)
        self._window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)

    def process(self, data: Any) -> Any:
        audio = audio_in(data, "LogMel", self.name)
        assert_finite(audio, "LogMel")
        if self._np is None:
            self.initialize()
        np = self._np
        if self._format.check(audio):
            if audio.channels != 1:
                raise InvalidData(
                    "channels",
                    f"LogMel expects mono audio, received {audio.channels} channels "
                    "(put FormatConvert with channels: 1 before it)",
                )
            self._start_us, self._frames_out = audio.timestamp_us, 0
        samples = np.frombuffer(audio.samples, dtype=np.float32)
        self._held = samples.copy() if self._held is None else np.concatenate([self._held, samples])
        self._received += len(samples)
        # Frame t covers samples [160 t - 200, 160 t + 200): ready once they are all here
        # (the analyzer starts at 201 samples: its start reflection needs x[1..200]).
        ready = (self._received - HALF) // HOP + 1 if self._received > HALF else 0
        return self._emit(self._frames(ready, final=False))

    def flush(self) -> Any:
        if self._format.sample_rate == 0:
            return None
        out = self._emit(self._frames(self._received // HOP, final=True))
        if self.mode == "utterance" and self._gathered:
            out = self._tensor(self._np.concatenate(self._gathered, axis=1), self._max)
        self._format.reset()
        self._reset()
        return out

    def _frames(self, until: int, final: bool) -> Any:
        """log10 mel energies (float32, n_mels x frames) of frames _emitted..until."""
        np = self._np
        count = max(0, until - self._emitted)
        start = self._emitted
        self._emitted += count
        if count == 0:
            return None
        index = (HOP * np.arange(start, start + count))[:, None] + np.arange(-HALF, HALF)[None, :]
        last = self._received - 1
        index = np.where(index < 0, -index, index)  # the start reflection
        if final:
            index = np.where(index > last, 2 * last - index, index)  # the end reflection
        valid = (index >= 0) & (index <= last)  # a stream under 201 samples reflects as far as it goes
        values = np.where(valid, self._held[np.clip(index - self._base, 0, len(self._held) - 1)], 0.0)
        power = np.abs(np.fft.rfft(values.astype(np.float64) * self._window, axis=1)) ** 2
        mel = self._filters @ power.T
        logs = np.log10(np.maximum(mel, 1e-10)).astype(np.float32)
        # Keep what later frames need (and x[1..200] while frames still reflect at the start).
        keep_from = max(0, HOP * self._emitted - HALF)
        if keep_from > self._base:
            self._held = self._held[keep_from - self._base :]
            self._base = keep_from
        return logs

    def _emit(self, logs: Any) -> Optional[RuntimeData]:
        if logs is None:
            return None
        self._max = max(self._max, float(logs.max()))
        if self.mode == "stream":
            return self._tensor(logs, self._max)
        self._gathered.append(logs)
        return None

    def _tensor(self, logs: Any, top: float) -> RuntimeData:
        np = self._np
        frames = logs.shape[1]
        scaled = ((np.maximum(logs.astype(np.float64), top - 8) + 4) / 4).astype(np.float32)
        at = None if self._start_us is None else self._start_us + self._frames_out * HOP / SAMPLE_RATE * 1e6
        self._frames_out += frames
        return RuntimeData.tensor(np.ascontiguousarray(scaled).data, "float32", (self.n_mels, frames), at)
