"""The frame codec's Python twin (see web/core/frame-codec.ts for the layout): a
frame written by either side is read byte-exact by the other. Standard library only:
struct for the header, zlib.crc32 for the trailer, memoryview casts for samples."""

from __future__ import annotations

import json
import struct
import sys
import zlib
from typing import Tuple

from .data import CONTROL_SIGNALS, PIXEL_FORMATS, TENSOR_DTYPES, RuntimeData

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
    """(sequence, data) of exactly one frame; FrameCodecError if it is truncated or corrupt."""
    view = memoryview(frame).cast("B")
    if len(view) < HEADER_BYTES + TRAILER_BYTES:
        raise FrameCodecError("length", f"truncated: {len(view)} bytes, a frame has at least 28")
    magic, version, kind_code, flags, sequence, length, timestamp = HEADER.unpack_from(view)
    if magic != b"RM":
        raise FrameCodecError("byte 0", 'not a RemoteMedia frame (magic "RM" missing)')
    if version != FRAME_VERSION:
        raise FrameCodecError("byte 2", f"frame version {version} is not supported; this runtime reads version 1")
    kind = KIND_BY_CODE.get(kind_code)
    if kind is None:
        raise FrameCodecError("byte 3", f"unknown kind code {kind_code}")
    expected = HEADER_BYTES + length + TRAILER_BYTES
    if len(view) != expected:
        raise FrameCodecError("length", f"header announces {expected} bytes, found {len(view)}")
    (stored,) = struct.unpack_from("<I", view, HEADER_BYTES + length)
    if stored != zlib.crc32(view[: HEADER_BYTES + length]):
        raise FrameCodecError("checksum", "CRC-32 mismatch")
    body = view[HEADER_BYTES : HEADER_BYTES + length]
    ts = timestamp if flags & FLAG_TIMESTAMP else None
    optional = bool(flags & FLAG_OPTIONAL)
    try:
        return sequence, _decode_body(kind, body, optional, ts)
    except (struct.error, UnicodeDecodeError, KeyError, ValueError, TypeError) as error:
        if isinstance(error, FrameCodecError):
            raise
        raise FrameCodecError(f"body.{kind}", str(error)) from error


def _decode_body(kind: str, body: memoryview, optional: bool, ts) -> RuntimeData:
    if kind == "audio":
        rate, channels, _ = struct.unpack_from("<IHH", body)
        # A copy, so the frame's buffer (a ring, a pipe read) may be reused at once.
        samples = memoryview(bytearray(body[8:])).cast("f")
        return RuntimeData.audio(samples, rate, channels, ts)
    if kind == "text":
        return RuntimeData.text_data(str(body, "utf-8"), ts)
    if kind == "json":
        return RuntimeData.json(json.loads(str(body, "utf-8")), ts)
    if kind == "binary":
        (n,) = struct.unpack_from("<H", body)
        mime = str(body[2 : 2 + n], "utf-8")
        data = RuntimeData.binary(body[2 + n :], mime if optional else None)
        return data if ts is None else RuntimeData("binary", ts, data=data.data, mime_type=data.mime_type)
    if kind == "tensor":
        code, rank = body[0], body[1]
        shape = struct.unpack_from(f"<{rank}I", body, 4)
        unpadded = 4 + 4 * rank
        head = unpadded + (8 - (HEADER_BYTES + unpadded) % 8) % 8
        return RuntimeData.tensor(bytearray(body[head:]), DTYPE_BY_CODE[code], shape, ts)
    if kind == "video":
        width, height, code = struct.unpack_from("<III", body)
        return RuntimeData.video(bytes(body[12:]), width, height, PIXEL_BY_CODE[code], ts)
    if kind == "control":
        data = RuntimeData.control(SIGNAL_BY_CODE[body[0]])
        return data if ts is None else RuntimeData("control", ts, signal=data.signal)
    (n,) = struct.unpack_from("<H", body)
    name = str(body[2 : 2 + n], "utf-8")
    payload = json.loads(str(body[2 + n :], "utf-8")) if optional else None
    return RuntimeData.event(name, ts, payload)
