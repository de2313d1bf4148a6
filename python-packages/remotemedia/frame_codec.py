"""The frame codec's Python twin (see web/core/frame-codec.ts for the layout): a
frame written by either side is read byte-exact by the other. Standard library only:
struct for the header, zlib.crc32 for the trailer, memoryview casts for samples."""

from __future__ import annotations

import json
import math
import struct
import sys
import zlib
from typing import Any, Tuple

from .data import CONTROL_SIGNALS, PIXEL_FORMATS, TENSOR_DTYPES, RuntimeData, pixel_bytes

FRAME_VERSION = 1
HEADER = struct.Struct("<2sBBB3xIId")  # magic, version, kind, flags, reserved, sequence, body length, timestamp
HEADER_BYTES = HEADER.size  # 24
TRAILER_BYTES = 4
KIND_CODES = {"audio": 1, "text": 2, "json": 3, "binary": 4, "tensor": 5, "video": 6, "control": 7, "event": 8}
KIND_BY_CODE = {v: k for k, v in KIND_CODES.items()}
DTYPE_CODES = {name: i + 1 for i, name in enumerate(TENSOR_DTYPES)}
DTYPE_BY_CODE = {v: k for k, v in DTYPE_CODES.items()}
PIXEL_CODES = {name: i + 1 for i, name in enumerate(PIXEL_FORMATS)}
PIXEL_BY_CODE = {v: k for k, v in PIXEL_CODES.items()}
SIGNAL_CODES = {name: i + 1 for i, name in enumerate(CONTROL_SIGNALS)}
SIGNAL_BY_CODE = {v: k for k, v in SIGNAL_CODES.items()}
FLAG_TIMESTAMP = 1
FLAG_OPTIONAL = 2
KNOWN_FLAGS = FLAG_TIMESTAMP | FLAG_OPTIONAL

if sys.byteorder != "little":  # samples are copied as native memory
    raise ImportError("remotemedia.frame_codec needs a little-endian platform")


class FrameCodecError(ValueError):
    """A frame that cannot be decoded: says where (path) and what is wrong."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"Frame codec: {path}: {message}")
        self.path = path


def json_text(value) -> str:
    # JSON has no NaN or Infinity: like JSON.stringify, they become null.
    return json.dumps(_finite(value), separators=(",", ":"), ensure_ascii=False)


def _finite(value):
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _body(data: RuntimeData) -> Tuple[bytes, bool]:
    kind = data.kind
    if kind == "audio":
        return struct.pack("<IHH", data.sample_rate, data.channels, 0) + data.samples.cast("B").tobytes(), False
    if kind == "text":
        return data.text.encode("utf-8"), False
    if kind == "json":
        return json_text(data.value).encode("utf-8"), False
    if kind == "binary":
        mime = (data.mime_type or "").encode("utf-8")
        return struct.pack("<H", len(mime)) + mime + bytes(data.data), data.mime_type is not None
    if kind == "tensor":
        rank = len(data.shape)
        unpadded = 4 + 4 * rank
        pad = (8 - (HEADER_BYTES + unpadded) % 8) % 8
        head = struct.pack(f"<BBH{rank}I", DTYPE_CODES[data.dtype], rank, 0, *data.shape) + bytes(pad)
        return head + data.data.cast("B").tobytes(), False
    if kind == "video":
        return struct.pack("<III", data.width, data.height, PIXEL_CODES[data.format]) + bytes(data.data), False
    if kind == "control":
        return bytes([SIGNAL_CODES[data.signal]]), False
    if kind == "event":
        name = data.name.encode("utf-8")
        payload = b"" if data.payload is None else json_text(data.payload).encode("utf-8")
        return struct.pack("<H", len(name)) + name + payload, data.payload is not None
    raise FrameCodecError("kind", f"unknown kind {kind!r}")


def encode_frame(data: RuntimeData, sequence: int = 0) -> bytes:
    if not 0 <= sequence <= 0xFFFF_FFFF:
        raise FrameCodecError("sequence", f"must be an integer from 0 to 4294967295, found {sequence}")
    body, optional = _body(data)
    has_time = data.timestamp_us is not None
    flags = (FLAG_TIMESTAMP if has_time else 0) | (FLAG_OPTIONAL if optional else 0)
    head = HEADER.pack(b"RM", FRAME_VERSION, KIND_CODES[data.kind], flags, sequence, len(body),
                       float(data.timestamp_us) if has_time else 0.0)
    frame = head + body
    return frame + struct.pack("<I", zlib.crc32(frame))


def decode_frame(frame: bytes) -> Tuple[int, RuntimeData]:
    """(sequence, data) of exactly one frame; FrameCodecError if it is truncated,
    corrupt or not valid RuntimeData. Makes every check web/core/frame-codec.ts makes,
    in the same order, so both accept exactly the same frames
    (tests/node/codec-parity.test.ts decodes a mutated corpus with both)."""
    view = memoryview(frame).cast("B")
    if len(view) < HEADER_BYTES + TRAILER_BYTES:
        raise FrameCodecError("length", f"truncated: {len(view)} bytes, a frame has at least 28")
    if view[0] != 0x52 or view[1] != 0x4D:
        raise FrameCodecError("byte 0", 'not a RemoteMedia frame (magic "RM" missing)')
    if view[2] != FRAME_VERSION:
        raise FrameCodecError("byte 2", f"frame version {view[2]} is not supported; this runtime reads version 1")
    kind = KIND_BY_CODE.get(view[3])
    if kind is None:
        raise FrameCodecError("byte 3", f"unknown kind code {view[3]}")
    flags = view[4]
    if flags & ~KNOWN_FLAGS:
        raise FrameCodecError("byte 4", f"unknown flags 0x{flags:x}")
    if view[5] or view[6] or view[7]:
        raise FrameCodecError("bytes 5-7", "reserved bytes must be zero")
    sequence, length, timestamp = struct.unpack_from("<IId", view, 8)
    expected = HEADER_BYTES + length + TRAILER_BYTES
    if len(view) < expected:
        raise FrameCodecError("length", f"truncated: header announces {expected} bytes, found {len(view)}")
    if len(view) > expected:
        raise FrameCodecError("length", f"{len(view) - expected} trailing bytes after a {expected}-byte frame")
    (stored,) = struct.unpack_from("<I", view, HEADER_BYTES + length)
    actual = zlib.crc32(view[: HEADER_BYTES + length])
    if stored != actual:
        raise FrameCodecError("checksum", f"CRC-32 mismatch (stored 0x{stored:08x}, computed 0x{actual:08x})")
    if not flags & FLAG_TIMESTAMP and timestamp != 0:
        raise FrameCodecError("bytes 16-23", "timestamp must be zero when its flag is clear")
    ts = timestamp if flags & FLAG_TIMESTAMP else None
    if ts is not None and not math.isfinite(ts):
        raise FrameCodecError("body.timestampUs", f"must be a finite number of microseconds, found {ts}")
    body = _BodyReader(view, HEADER_BYTES, length)
    data = _DECODERS[kind](body, bool(flags & FLAG_OPTIONAL), ts)
    body.expect_end()
    return sequence, data


class _BodyReader:
    """Bounds-checked sequential reads over a frame body (as frame-codec.ts's BodyReader)."""

    __slots__ = ("view", "at", "end")

    def __init__(self, view: memoryview, start: int, length: int) -> None:
        self.view = view
        self.at = start
        self.end = start + length

    @property
    def remaining(self) -> int:
        return self.end - self.at

    def _need(self, n: int, what: str) -> int:
        if n > self.remaining:
            raise FrameCodecError(f"body.{what}", f"needs {n} bytes at offset {self.at}, body has {self.remaining} left")
        at = self.at
        self.at += n
        return at

    def u8(self, what: str) -> int:
        return self.view[self._need(1, what)]

    def u16(self, what: str) -> int:
        return struct.unpack_from("<H", self.view, self._need(2, what))[0]

    def u32(self, what: str) -> int:
        return struct.unpack_from("<I", self.view, self._need(4, what))[0]

    def copy(self, n: int, what: str) -> bytes:
        at = self._need(n, what)
        return bytes(self.view[at : at + n])

    def rest(self, what: str) -> bytes:
        return self.copy(self.remaining, what)

    def utf8(self, n: int, what: str) -> str:
        at = self._need(n, what)
        try:
            text = str(self.view[at : at + n], "utf-8")
        except UnicodeDecodeError:
            raise FrameCodecError(f"body.{what}", "is not valid UTF-8") from None
        return text

    def json(self, n: int, what: str) -> Any:
        text = self.utf8(n, what)
        try:
            return json.loads(text, parse_constant=_no_constant)
        except (ValueError, RecursionError) as error:
            raise FrameCodecError(f"body.{what}", f"is not valid JSON ({error})") from None

    def expect_end(self) -> None:
        if self.remaining:
            raise FrameCodecError("body", f"{self.remaining} unread bytes at the end")


def _no_constant(name: str) -> Any:
    # JSON has no NaN or Infinity (json.loads accepts them; JSON.parse does not).
    raise ValueError(f"{name} is not JSON")


def _check_positive(path: str, value: int, top: int = 0xFFFF_FFFF) -> None:
    if not 1 <= value <= top:
        raise FrameCodecError(f"body.{path}", f"must be an integer from 1 to {top}, found {value}")


def _decode_audio(body: _BodyReader, optional: bool, ts) -> RuntimeData:
    rate = body.u32("sampleRate")
    channels = body.u16("channels")
    if body.u16("reserved"):
        raise FrameCodecError("body.reserved", "must be zero")
    if body.remaining % 4:
        raise FrameCodecError("body.samples", f"{body.remaining} bytes is not a whole number of float32 samples")
    # A copy, so the frame's buffer (a ring, a pipe read) may be reused at once.
    samples = memoryview(bytearray(body.rest("samples"))).cast("f")
    _check_positive("sampleRate", rate)
    _check_positive("channels", channels, 0xFFFF)
    if len(samples) % channels:
        raise FrameCodecError("body.samples.length", f"{len(samples)} samples do not divide into {channels} channels")
    return RuntimeData("audio", ts, samples=samples, sample_rate=rate, channels=channels)


def _decode_text(body: _BodyReader, optional: bool, ts) -> RuntimeData:
    return RuntimeData("text", ts, text=body.utf8(body.remaining, "text"))


def _decode_json(body: _BodyReader, optional: bool, ts) -> RuntimeData:
    return RuntimeData("json", ts, value=body.json(body.remaining, "json"))


def _decode_binary(body: _BodyReader, optional: bool, ts) -> RuntimeData:
    n = body.u16("mimeLength")
    mime = body.utf8(n, "mimeType")
    if not optional and n > 0:
        raise FrameCodecError("body.mimeType", "present but flag clear")
    return RuntimeData("binary", ts, data=body.rest("bytes"), mime_type=mime if optional else None)


def _decode_tensor(body: _BodyReader, optional: bool, ts) -> RuntimeData:
    code = body.u8("dtype")
    dtype = DTYPE_BY_CODE.get(code)
    if dtype is None:
        raise FrameCodecError("body.dtype", f"unknown dtype code {code}")
    rank = body.u8("rank")
    if body.u16("reserved"):
        raise FrameCodecError("body.reserved", "must be zero")
    shape = tuple(body.u32(f"shape[{i}]") for i in range(rank))
    unpadded = 4 + 4 * rank
    for _ in range((8 - (HEADER_BYTES + unpadded) % 8) % 8):
        if body.u8("padding"):
            raise FrameCodecError("body.padding", "must be zero")
    size = struct.calcsize(TENSOR_DTYPES[dtype])
    if body.remaining % size:
        raise FrameCodecError("body.data", f"{body.remaining} bytes is not a whole number of {dtype}")
    data = memoryview(bytearray(body.rest("data"))).cast(TENSOR_DTYPES[dtype])
    # The element count as the TypeScript side computes it: a float product, which
    # overflows to infinity (and 0 * infinity to NaN) where an int product would not.
    count = 1.0
    for dim in shape:
        count *= dim
    if count != len(data):
        raise FrameCodecError("body.data.length", f"shape {list(shape)} needs {count:g} elements, found {len(data)}")
    return RuntimeData("tensor", ts, data=data, dtype=dtype, shape=shape)


def _decode_video(body: _BodyReader, optional: bool, ts) -> RuntimeData:
    width = body.u32("width")
    height = body.u32("height")
    code = body.u32("format")
    fmt = PIXEL_BY_CODE.get(code)
    if fmt is None:
        raise FrameCodecError("body.format", f"unknown pixel format code {code}")
    expected = pixel_bytes(fmt, width, height)
    if body.remaining != expected:
        raise FrameCodecError("body.data", f"{fmt} {width}x{height} needs {expected} bytes, found {body.remaining}")
    _check_positive("width", width)
    _check_positive("height", height)
    return RuntimeData("video", ts, data=body.rest("data"), width=width, height=height, format=fmt)


def _decode_control(body: _BodyReader, optional: bool, ts) -> RuntimeData:
    code = body.u8("signal")
    signal = SIGNAL_BY_CODE.get(code)
    if signal is None:
        raise FrameCodecError("body.signal", f"unknown control signal code {code}")
    return RuntimeData("control", ts, signal=signal)


def _decode_event(body: _BodyReader, optional: bool, ts) -> RuntimeData:
    n = body.u16("nameLength")
    name = body.utf8(n, "name")
    payload = body.json(body.remaining, "payload") if optional else None
    if not name:
        raise FrameCodecError("body.name", "must be a non-empty string")
    return RuntimeData("event", ts, name=name, payload=payload)


_DECODERS = {
    "audio": _decode_audio,
    "text": _decode_text,
    "json": _decode_json,
    "binary": _decode_binary,
    "tensor": _decode_tensor,
    "video": _decode_video,
    "control": _decode_control,
    "event": _decode_event,
}
