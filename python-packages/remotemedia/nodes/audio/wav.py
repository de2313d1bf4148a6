"""WAV files in and out without any dependency: PCM 8/16/24/32-bit and IEEE float
32/64 (WAVE_FORMAT_EXTENSIBLE too) read as float32 audio; written as 16-bit PCM
(or float32). int16 maps to float as FormatConvert does (v / 32768)."""

from __future__ import annotations

import struct
import sys
from array import array
from typing import Any, Iterable, List, Tuple, Union

from ...data import InvalidData, RuntimeData
from ._support import numpy_or_none, raw

_PCM, _FLOAT, _EXTENSIBLE = 1, 3, 0xFFFE


def read_wav(path: str) -> Tuple[array, int, int]:
    """(interleaved float32 samples, sample rate, channels) of a WAV file."""
    with open(path, "rb") as file:
        blob = file.read()
    if len(blob) < 12 or blob[:4] != b"RIFF" or blob[8:12] != b"WAVE":
        raise InvalidData("path", f"{path} is not a WAV file (no RIFF/WAVE header)")
    fmt = None
    data = None
    at = 12
    while at + 8 <= len(blob):
        chunk, size = blob[at : at + 4], struct.unpack("<I", blob[at + 4 : at + 8])[0]
        body = blob[at + 8 : at + 8 + size]
        if chunk == b"fmt ":
            fmt = body
        elif chunk == b"data":
            data = body
        at += 8 + size + (size & 1)
    if fmt is None or data is None or len(fmt) < 16:
        raise InvalidData("path", f"{path}: a WAV file needs a 'fmt ' and a 'data' chunk")
    tag, channels, rate, _, _, bits = struct.unpack("<HHIIHH", fmt[:16])
    if tag == _EXTENSIBLE and len(fmt) >= 26:
        tag = struct.unpack("<H", fmt[24:26])[0]
    width = bits // 8
    if channels < 1 or rate < 1 or (tag, bits) not in ((_PCM, 8), (_PCM, 16), (_PCM, 24), (_PCM, 32), (_FLOAT, 32), (_FLOAT, 64)):
        raise InvalidData("path", f"{path}: {bits}-bit format {tag} with {channels} channels is not read; "
                                  "PCM 8/16/24/32-bit and float 32/64-bit are")
    data = data[: len(data) - len(data) % (width * channels)]
    return _decode(data, tag, bits), rate, channels


def _decode(data: bytes, tag: int, bits: int) -> array:
    np = numpy_or_none()
    if np is not None:
        if tag == _FLOAT:
            values = np.frombuffer(data, dtype="<f4" if bits == 32 else "<f8").astype(np.float32)
        elif bits == 8:
            values = (np.frombuffer(data, dtype=np.uint8).astype(np.float32) - 128) / np.float32(128)
        elif bits == 24:
            raw = np.frombuffer(data, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
            ints = (raw[:, 0] | (raw[:, 1] << 8) | (raw[:, 2] << 16)) << 8 >> 8
            values = ints.astype(np.float32) / np.float32(1 << 23)
        else:
            dtype = "<i2" if bits == 16 else "<i4"
            values = np.frombuffer(data, dtype=dtype).astype(np.float32) / np.float32(1 << (bits - 1))
        return array("f", values.astype(np.float32).tobytes())
    if tag == _FLOAT:
        code = "f" if bits == 32 else "d"
        raw = array(code, data)
        if sys.byteorder == "big":
            raw.byteswap()
        return array("f", raw)
    if bits == 8:
        return array("f", [(v - 128) / 128 for v in data])
    if bits == 24:
        scale = 1.0 / (1 << 23)
        return array("f", [int.from_bytes(data[i : i + 3], "little", signed=True) * scale for i in range(0, len(data), 3)])
    raw = array("h" if bits == 16 else "i", data)
    if sys.byteorder == "big":
        raw.byteswap()
    scale = 1.0 / (1 << (bits - 1))
    return array("f", [v * scale for v in raw])


Audio = Union[RuntimeData, Iterable[Any]]


def audio_chunks(audio: Audio) -> List[RuntimeData]:
    """Every audio item of a pipeline's outputs (nested lists too; other kinds left out)."""
    if isinstance(audio, RuntimeData):
        return [audio] if audio.kind == "audio" else []
    found: List[RuntimeData] = []
    for item in audio:
        if isinstance(item, (RuntimeData, list, tuple)):
            found.extend(audio_chunks(item))
    return found


def write_wav(path: str, audio: Audio, float32: bool = False) -> Tuple[int, int, int]:
    """Writes audio (one RuntimeData, or a pipeline's outputs: every audio item in
    order) to a WAV file; returns (frames, sample rate, channels)."""
    chunks = audio_chunks(audio)
    if not chunks:
        raise InvalidData("audio", "write_wav: no audio among the items given")
    rate, channels = chunks[0].sample_rate, chunks[0].channels
    samples = array("f")
    for chunk in chunks:
        if (chunk.sample_rate, chunk.channels) != (rate, channels):
            raise InvalidData("audio", f"write_wav: {chunk.sample_rate} Hz x {chunk.channels} after {rate} Hz x {channels}")
        samples.frombytes(raw(chunk.samples))
    if float32:
        body, tag, bits = samples, _FLOAT, 32
    else:
        body, tag, bits = array("h", [max(-32768, min(32767, round(v * 32768.0))) for v in samples]), _PCM, 16
    if sys.byteorder == "big":
        body.byteswap()
    payload = body.tobytes()
    block = channels * bits // 8
    header = struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + len(payload), b"WAVE", b"fmt ", 16, tag, channels, rate,
                         rate * block, block, bits, b"data", len(payload))
    with open(path, "wb") as file:
        file.write(header + payload)
    return len(samples) // channels, rate, channels
