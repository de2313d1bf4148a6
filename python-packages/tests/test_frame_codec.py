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
