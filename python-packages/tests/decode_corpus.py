"""Decodes a corpus of frames with the Python codec for the parity test
(tests/node/codec-parity.test.ts): the corpus file is a sequence of [u32 little-endian
length][frame bytes]; for each frame one JSON line goes to stdout — null when it is
refused with a FrameCodecError, {"sequence", "data"} when accepted (bytes as hex,
the same shape as the TypeScript side's decodeForParity), {"escaped": "..."} when any
other exception got out (a bug: bad input must be a FrameCodecError).

    python3 tests/decode_corpus.py CORPUS_FILE"""

from __future__ import annotations

import json
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from remotemedia.frame_codec import FrameCodecError, _finite, decode_frame  # noqa: E402


def normalized(sequence: int, d) -> dict:
    out = {"kind": d.kind, "ts": _finite(d.timestamp_us)}
    if d.kind == "audio":
        out.update(rate=d.sample_rate, channels=d.channels, samples=bytes(d.samples).hex())
    elif d.kind == "text":
        out["text"] = d.text
    elif d.kind == "json":
        out["value"] = _finite(d.value)
    elif d.kind == "binary":
        out.update(mime=d.mime_type, bytes=bytes(d.data).hex())
    elif d.kind == "tensor":
        out.update(dtype=d.dtype, shape=list(d.shape), data=bytes(d.data).hex())
    elif d.kind == "video":
        out.update(width=d.width, height=d.height, format=d.format, data=bytes(d.data).hex())
    elif d.kind == "control":
        out["signal"] = d.signal
    elif d.kind == "event":
        out.update(name=d.name, payload=_finite(d.payload))
    return {"sequence": sequence, "data": out}


def main(path: str) -> None:
    with open(path, "rb") as f:
        corpus = f.read()
    lines = []
    at = 0
    while at < len(corpus):
        (n,) = struct.unpack_from("<I", corpus, at)
        frame = corpus[at + 4 : at + 4 + n]
        at += 4 + n
        try:
            result = normalized(*decode_frame(frame))
        except FrameCodecError:
            result = None
        except Exception as error:  # noqa: BLE001 — reported, never hidden
            result = {"escaped": f"{type(error).__name__}: {error}"}
        # ASCII escapes keep lone surrogates (valid in JSON strings) printable.
        lines.append(json.dumps(result, ensure_ascii=True, allow_nan=False))
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
