import math
import unittest
from array import array

from remotemedia import FrameCodecError, RuntimeData, decode_frame, encode_frame

EVERY_KIND = [
    RuntimeData.audio(array("f", [0.0, 0.5, -1.0, 0.25]), 48000, 2, timestamp_us=1500.0),
    RuntimeData.text_data("héllo ✓"),
    RuntimeData.json({"a": [1, 2, None], "b": "x"}, timestamp_us=7.0),
    RuntimeData.binary(b"\x00\x01\xff", "application/octet-stream"),
    RuntimeData.binary(b"no mime"),
    RuntimeData.tensor(array("h", [1, -2, 3, -4, 5, -6]), "int16", (2, 3)),
    RuntimeData.video(bytes(2 * 2 * 4), 2, 2, "rgba8"),
    RuntimeData.control("flush"),
    RuntimeData.event("speech_start", 1_056_000.0),
    RuntimeData.event("vad", 2.0, {"probability": 0.5}),
]


class FrameCodecTest(unittest.TestCase):
    def test_every_kind_round_trips_byte_exact(self):
        for data in EVERY_KIND:
            frame = encode_frame(data, sequence=42)
            sequence, back = decode_frame(frame)
            self.assertEqual(sequence, 42)
            self.assertEqual(back, data, data.kind)
            self.assertEqual(encode_frame(back, 42), frame, data.kind)

    def test_matches_the_typescript_codec_byte_for_byte(self):
        # The golden frame of web/core/frame-codec.test.ts ("keeps the v1 layout stable").
        golden = bytes.fromhex(
            "524d010101000000" "03000000" "10000000" "000000000088d340"
            "803e0000" "01000000" "0000803f" "000080bf" "3e923d6a"
        )
        data = RuntimeData.audio(array("f", [1.0, -1.0]), 16000, 1, timestamp_us=20_000.0)
        self.assertEqual(encode_frame(data, sequence=3), golden)
        self.assertEqual(decode_frame(golden), (3, data))

    def test_nan_and_infinity_become_null(self):
        _, back = decode_frame(encode_frame(RuntimeData.json([math.nan, math.inf, 1.5])))
        self.assertEqual(back.value, [None, None, 1.5])

    def test_truncated_and_corrupted_frames_are_typed_errors(self):
        frame = encode_frame(RuntimeData.audio(array("f", [0.1] * 64), 16000))
        for cut in (0, 10, 27, len(frame) - 1):
            with self.assertRaises(FrameCodecError):
                decode_frame(frame[:cut])
        for at in (0, 3, 30, len(frame) - 2):
            corrupt = bytearray(frame)
            corrupt[at] ^= 0x40
            with self.assertRaises(FrameCodecError) as caught:
                decode_frame(bytes(corrupt))
            self.assertTrue(caught.exception.path)

    def test_audio_samples_are_a_float32_view_not_a_list(self):
        _, back = decode_frame(encode_frame(RuntimeData.audio(array("f", [0.25] * 320), 16000)))
        self.assertIsInstance(back.samples, memoryview)
        self.assertEqual(back.samples.format, "f")
        self.assertEqual(len(back.samples), 320)


def _reframed(frame: bytes, edit) -> bytes:
    """`frame` with header+body edited by `edit(bytearray)`, its length and CRC made
    consistent again, so that the check behind the CRC is the one that answers."""
    import struct
    import zlib

    content = bytearray(frame[:-4])
    edit(content)
    struct.pack_into("<I", content, 12, len(content) - 24)
    return bytes(content) + struct.pack("<I", zlib.crc32(content))


class FrameCodecChecksTest(unittest.TestCase):
    """The checks web/core/frame-codec.ts makes, each refused with its path (the
    corpus test tests/node/codec-parity.test.ts compares both codecs frame by frame)."""

    def refused(self, frame: bytes, path: str) -> None:
        with self.assertRaises(FrameCodecError) as caught:
            decode_frame(frame)
        self.assertEqual(caught.exception.path, path, str(caught.exception))

    def test_header_flags_reserved_and_timestamp(self):
        text = encode_frame(RuntimeData.text_data("hi"))

        def set_at(at, value):
            def edit(c):
                c[at] = value
            return edit

        self.refused(_reframed(text, set_at(4, 0x04)), "byte 4")
        self.refused(_reframed(text, set_at(6, 1)), "bytes 5-7")
        self.refused(_reframed(text, set_at(23, 0x40)), "bytes 16-23")  # a timestamp, flag clear
        self.refused(text + b"\x00", "length")
        timed = encode_frame(RuntimeData.text_data("hi", 5.0))
        self.refused(_reframed(timed, lambda c: c.__setitem__(slice(16, 24), b"\x00" * 6 + b"\xf0\x7f")), "body.timestampUs")

    def test_bodies_must_be_exactly_what_their_kind_needs(self):
        video = encode_frame(RuntimeData.video(bytes(16), 2, 2, "rgba8"))
        self.refused(_reframed(video, lambda c: c.__delitem__(-1)), "body.data")
        self.refused(_reframed(encode_frame(RuntimeData.control("flush")), lambda c: c.append(0)), "body")
        binary = encode_frame(RuntimeData.binary(b"abc", "text/plain"))
        self.refused(_reframed(binary, lambda c: c.__setitem__(24, 200)), "body.mimeType")  # cut short
        event = encode_frame(RuntimeData.event("speech_start"))
        self.refused(_reframed(event, lambda c: c.__setitem__(24, 50)), "body.name")
        self.refused(_reframed(event, lambda c: c.extend(b"{}")), "body")  # a payload, flag clear
        self.refused(_reframed(event, lambda c: c.__setitem__(slice(24, None), b"\x00\x00")), "body.name")  # empty
        # Rank 2: dtype, rank, reserved (26-27), two dims (28-35), padding (36-39), data.
        tensor = encode_frame(RuntimeData.tensor(array("f", [1.0, 2.0]), "float32", (1, 2)))
        self.refused(_reframed(tensor, lambda c: c.__setitem__(26, 1)), "body.reserved")
        self.refused(_reframed(tensor, lambda c: c.__setitem__(37, 1)), "body.padding")

    def test_json_is_json_as_the_runtime_reads_it(self):
        json_frame = encode_frame(RuntimeData.json(1))
        # A byte-order mark is kept as text (TextDecoder ignoreBOM), and JSON refuses it.
        for text in (b"NaN", b"Infinity", b"[1,]", b"\xef\xbb\xbf7"):
            self.refused(_reframed(json_frame, lambda c, t=text: c.__setitem__(slice(24, None), t)), "body.json")
