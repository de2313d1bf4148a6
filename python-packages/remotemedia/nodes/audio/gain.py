"""Gain: audio times a gain in dB, as web/core/nodes/audio/gain.ts (float32
arithmetic, so the samples match the runtime's exactly); clip holds them in [-1, 1]."""

from __future__ import annotations

from array import array
from typing import Any, Optional

from ...core.node import Node
from ...data import RuntimeData
from ._support import assert_finite, audio_in, check_number, f32, numpy_or_none


class Gain(Node):
    def __init__(self, name: Optional[str] = None, gain_db: float = 0.0, clip: bool = True) -> None:
        check_number("Gain", "gain_db", gain_db, -120, 60)
        if not isinstance(clip, bool):
            raise ValueError(f"Gain: clip must be true or false, found {clip!r}")
        super().__init__(name, gain_db=gain_db, clip=clip)
        self.gain_db, self.clip = gain_db, clip
        self.factor = f32(10 ** (gain_db / 20))  # the WASM kernel multiplies by a float32

    def process(self, data: Any) -> Any:
        audio = audio_in(data, "Gain", self.name)
        assert_finite(audio, "Gain")
        np = numpy_or_none()
        factor = self.factor
        if np is not None:
            values = np.frombuffer(audio.samples, dtype=np.float32) * np.float32(factor)
            if self.clip:
                np.clip(values, -1.0, 1.0, out=values)
            samples = array("f", values.tobytes())
        elif self.clip:
            samples = array("f", [min(1.0, max(-1.0, v * factor)) for v in audio.samples])
        else:
            samples = array("f", [v * factor for v in audio.samples])
        return RuntimeData.audio(samples, audio.sample_rate, audio.channels, audio.timestamp_us)
