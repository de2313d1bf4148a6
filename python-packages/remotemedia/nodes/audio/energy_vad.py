"""EnergyVAD: speech found by the RMS level of fixed analysis frames against a
threshold, with a minimum speech length to start and a hangover to end; emits
speech_start / speech_end events (audio passes through unless emit_audio is
false). As web/core/nodes/audio/energy-vad.ts, with the same float64 sum of squares."""

from __future__ import annotations

import math
from array import array
from typing import Any, List, Optional

from ...core.node import Node
from ...data import RuntimeData
from ._support import raw, StreamFormat, audio_in, check_number, js_round, numpy_or_none, outputs


class EnergyVAD(Node):
    def __init__(self, name: Optional[str] = None, threshold_db: float = -40, frame_ms: float = 20,
                 min_speech_ms: float = 100, hangover_ms: float = 300, emit_audio: bool = True) -> None:
        check_number("EnergyVAD", "threshold_db", threshold_db, -120, 0)
        check_number("EnergyVAD", "frame_ms", frame_ms, 1, 1000)
        check_number("EnergyVAD", "min_speech_ms", min_speech_ms, 0, 10_000)
        check_number("EnergyVAD", "hangover_ms", hangover_ms, 0, 10_000)
        if not isinstance(emit_audio, bool):
            raise ValueError(f"EnergyVAD: emit_audio must be true or false, found {emit_audio!r}")
        super().__init__(name, threshold_db=threshold_db, frame_ms=frame_ms, min_speech_ms=min_speech_ms,
                         hangover_ms=hangover_ms, emit_audio=emit_audio)
        self.threshold_db, self.frame_ms = threshold_db, frame_ms
        self.min_speech_ms, self.hangover_ms, self.emit_audio = min_speech_ms, hangover_ms, emit_audio
        self._format = StreamFormat("EnergyVAD")
        self._window = array("f")
        self._frame_length = 0
        self._position = 0  # frames analysed since the start of the stream
        self._start_us = 0.0
        self._speaking = False
        self._run = 0  # consecutive windows on the other side of the threshold
        self._last_speech_end = 0

    def process(self, data: Any) -> Any:
        audio = audio_in(data, "EnergyVAD", self.name)
        fmt = self._format
        if fmt.check(audio):
            self._frame_length = max(1, js_round(self.frame_ms / 1000 * audio.sample_rate))
            self._window, self._position = array("f"), 0
            self._start_us = audio.timestamp_us or 0.0
        events: List[RuntimeData] = []
        self._window.frombytes(raw(audio.samples))
        n = self._frame_length * fmt.channels
        whole = len(self._window) // n
        for k, mean_square in enumerate(self._mean_squares(whole, n)):
            self._analyse(mean_square, events)
        del self._window[: whole * n]
        return outputs(([audio] if self.emit_audio else []) + events)

    def flush(self) -> Any:
        events = [self._event("speech_end", self._last_speech_end)] if self._speaking else []
        self._speaking, self._run = False, 0
        self._format.reset()
        return outputs(events)

    def _mean_squares(self, whole: int, n: int) -> List[float]:
        if whole == 0:
            return []
        np = numpy_or_none()
        if np is not None:
            frames = np.frombuffer(self._window, dtype=np.float32)[: whole * n].astype(np.float64).reshape(whole, n)
            return list((frames * frames).sum(axis=1) / n)
        w = self._window
        return [sum(v * v for v in w[k * n : (k + 1) * n]) / n for k in range(whole)]

    def _analyse(self, mean_square: float, events: List[RuntimeData]) -> None:
        level_db = 10 * math.log10(mean_square + 1e-20)
        is_speech = level_db > self.threshold_db
        window_start = self._position
        self._position += self._frame_length
        if not self._speaking:
            self._run = self._run + 1 if is_speech else 0
            if is_speech and self._run * self.frame_ms >= self.min_speech_ms:
                events.append(self._event("speech_start", window_start - (self._run - 1) * self._frame_length, level_db))
                self._speaking, self._run = True, 0
                self._last_speech_end = self._position
        elif is_speech:
            self._run = 0
            self._last_speech_end = self._position
        else:
            self._run += 1
            if self._run * self.frame_ms >= self.hangover_ms:
                self._speaking, self._run = False, 0
                events.append(self._event("speech_end", self._last_speech_end, level_db))

    def _event(self, name: str, frame: int, level_db: Optional[float] = None) -> RuntimeData:
        at = self._start_us + frame / self._format.sample_rate * 1e6
        payload = None if level_db is None else {"level_db": js_round(level_db * 10) / 10}
        return RuntimeData.event(name, at, payload)
