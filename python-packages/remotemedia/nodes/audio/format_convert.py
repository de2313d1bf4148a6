"""FormatConvert (and ChannelMix, the same node with only `channels`): float32 audio
<-> int16 PCM (binary, little-endian, its rate and channels in the mime type) <->
planar float32 tensors [channels, frames]; downmix to mono by averaging, upmix mono
by copying. As web/core/nodes/audio/format-convert.ts and channel-mix.ts."""

from __future__ import annotations

import re
import sys
from array import array
from typing import Any, Optional

from ...core.node import Node
from ...data import InvalidData, RuntimeData
from ._support import assert_finite, check_number, numpy_or_none

TARGETS = ("float32", "int16", "planar")


def pcm16_mime_type(sample_rate: int, channels: int) -> str:
    return f"audio/pcm;format=s16le;rate={sample_rate};channels={channels}"


def _mime_param(mime_type: Optional[str], name: str) -> Optional[int]:
    match = re.search(rf"(?:^|;)\s*{name}=(\d+)", mime_type or "")
    return int(match.group(1)) if match else None


def convert_channels(samples: Any, source: int, target: int) -> Any:
    """Interleaved samples with `source` channels as `target` channels."""
    if source == target:
        return samples
    frames = len(samples) // source
    np = numpy_or_none()
    if target == 1:
        if np is not None:
            mixed = np.frombuffer(samples, dtype=np.float32).reshape(frames, source).astype(np.float64)
            return array("f", (mixed.sum(axis=1) / source).astype(np.float32).tobytes())
        return array("f", [sum(samples[i * source : (i + 1) * source]) / source for i in range(frames)])
    if source == 1:
        out = array("f", bytes(4 * frames * target))
        for c in range(target):
            out[c::target] = array("f", samples)
        return out
    raise InvalidData(
        "channels", f"cannot convert {source} channels to {target}: only downmix to mono and upmix from mono are defined"
    )


class FormatConvert(Node):
    def __init__(
        self, name: Optional[str] = None, to: str = "float32", channels: Optional[int] = None,
        sample_rate: Optional[int] = None, input_channels: Optional[int] = None,
    ) -> None:
        if to not in TARGETS:
            raise ValueError(f"FormatConvert: to must be one of {', '.join(TARGETS)}, found {to!r}")
        for key, value, high in (("channels", channels, 64), ("sample_rate", sample_rate, 384_000),
                                 ("input_channels", input_channels, 64)):
            if value is not None:
                check_number("FormatConvert", key, value, 1, high, integer=True)
        given = {"channels": channels, "sample_rate": sample_rate, "input_channels": input_channels}
        super().__init__(name, to=to, **{k: v for k, v in given.items() if v is not None})
        self.to, self.channels = to, channels
        self.sample_rate, self.input_channels = sample_rate, input_channels

    @property
    def node_type(self) -> str:
        return "FormatConvert"  # ChannelMix too: the manifest's node is FormatConvert

    def process(self, data: Any) -> Any:
        audio = self._audio(data)
        assert_finite(audio, "FormatConvert")
        count = self.channels or audio.channels
        samples = convert_channels(audio.samples, audio.channels, count)
        at = audio.timestamp_us
        if self.to == "float32":
            return RuntimeData.audio(samples, audio.sample_rate, count, at)
        frames = len(samples) // count
        if self.to == "planar":
            planar = array("f")
            for c in range(count):
                planar.extend(samples[c::count])
            return RuntimeData.tensor(planar, "float32", (count, frames), at)
        return RuntimeData("binary", at, data=_to_int16(samples), mime_type=pcm16_mime_type(audio.sample_rate, count))

    def _audio(self, data: Any) -> RuntimeData:
        if isinstance(data, (bytes, bytearray)):
            data = RuntimeData.binary(data)
        if not isinstance(data, RuntimeData) or data.kind not in ("audio", "binary", "tensor"):
            found = data.kind if isinstance(data, RuntimeData) else type(data).__name__
            raise TypeError(f"{self.name}: FormatConvert takes audio, int16 PCM (binary) or a tensor, received {found}")
        if data.kind == "audio":
            return data
        if data.kind == "binary":
            return self._from_pcm16(data)
        return self._from_planar(data)

    def _from_pcm16(self, data: RuntimeData) -> RuntimeData:
        rate = _mime_param(data.mime_type, "rate") or self.sample_rate
        count = _mime_param(data.mime_type, "channels") or self.input_channels or 1
        if rate is None:
            raise InvalidData("sample_rate", "FormatConvert needs the rate of int16 input: set sample_rate or a mime type with rate=")
        raw = bytes(data.data)
        if len(raw) % 2:
            raise InvalidData("bytes.length", f"FormatConvert received {len(raw)} bytes of int16 PCM: an odd byte count")
        n = len(raw) // 2
        if n % count:
            raise InvalidData("bytes.length", f"FormatConvert received {n} int16 samples, which do not divide into {count} channels")
        np = numpy_or_none()
        if np is not None:
            values = np.frombuffer(raw, dtype="<i2").astype(np.float32) * np.float32(1 / 32768)
            return RuntimeData.audio(array("f", values.tobytes()), rate, count)
        pcm = array("h", raw)
        if sys.byteorder == "big":
            pcm.byteswap()
        scale = 1.0 / 32768.0
        return RuntimeData.audio(array("f", [v * scale for v in pcm]), rate, count)

    def _from_planar(self, data: RuntimeData) -> RuntimeData:
        if data.dtype != "float32" or len(data.shape) != 2:
            raise InvalidData(
                "dtype", f"FormatConvert expects a float32 [channels, frames] tensor, received {data.dtype} {list(data.shape)}"
            )
        if self.sample_rate is None:
            raise InvalidData("sample_rate", "FormatConvert needs sample_rate to read planar tensors")
        count, frames = data.shape
        samples = array("f", bytes(4 * count * frames))
        for c in range(count):
            samples[c::count] = array("f", data.data[c * frames : (c + 1) * frames])
        return RuntimeData.audio(samples, self.sample_rate, count, data.timestamp_us)


class ChannelMix(FormatConvert):
    """Mixes audio to `channels` (mono by averaging, or from mono by copying): the
    manifest's FormatConvert with only channels set."""

    def __init__(self, name: Optional[str] = None, channels: int = 1) -> None:
        super().__init__(name, to="float32", channels=channels)


def _to_int16(samples: Any) -> bytes:
    """Rounded half to even (WASM's nearest), clamped to [-32768, 32767], little-endian."""
    np = numpy_or_none()
    if np is not None:
        scaled = np.rint(np.frombuffer(samples, dtype=np.float32) * np.float32(32768.0))
        return np.clip(scaled, -32768, 32767).astype("<i2").tobytes()
    pcm = array("h", [max(-32768, min(32767, round(v * 32768.0))) for v in samples])
    if sys.byteorder == "big":
        pcm.byteswap()
    return pcm.tobytes()
