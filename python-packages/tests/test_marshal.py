import math
import unittest
from array import array

from remotemedia import InvalidData, RuntimeData, from_runtime_data, to_runtime_data


class MarshalTest(unittest.TestCase):
    def test_plain_values_are_json(self):
        for value in (None, True, 3, 2.5, "s", [1, "a"], {"k": [1]}):
            data = to_runtime_data(value)
            self.assertEqual(data.kind, "json")
            self.assertEqual(from_runtime_data(data), value)

    def test_str_is_text_when_asked_and_bytes_binary(self):
        self.assertEqual(to_runtime_data("hi", text=True).kind, "text")
        self.assertEqual(to_runtime_data(b"\x01").kind, "binary")
        self.assertEqual(from_runtime_data(to_runtime_data(b"\x01")), b"\x01")

    def test_float32_arrays_are_audio_without_copying(self):
        samples = array("f", [0.0] * 960)
        data = to_runtime_data(samples, sample_rate=48000, channels=2)
        self.assertEqual((data.kind, data.sample_rate, data.channels), ("audio", 48000, 2))
        samples[0] = 1.0
        self.assertEqual(data.samples[0], 1.0)  # a view of the caller's array

    def test_audio_needs_a_rate_and_whole_frames(self):
        with self.assertRaises(InvalidData):
            to_runtime_data(array("f", [0.0] * 4))
        with self.assertRaises(InvalidData) as caught:
            RuntimeData.audio(array("f", [0.0] * 5), 16000, 2)
        self.assertEqual(caught.exception.path, "samples")

    def test_other_arrays_are_tensors(self):
        data = to_runtime_data(array("i", [1, 2, 3]))
        self.assertEqual((data.kind, data.dtype, data.shape), ("tensor", "int32", (3,)))

    def test_numpy_when_present(self):
        try:
            import numpy as np
        except ImportError:
            self.assertIsNotNone(to_runtime_data([1.0]))  # numpy is optional: nothing to check here
            return
        audio = to_runtime_data(np.zeros(320, dtype=np.float32), sample_rate=16000)
        self.assertEqual(audio.kind, "audio")
        tensor = to_runtime_data(np.arange(6, dtype=np.int64).reshape(2, 3))
        self.assertEqual((tensor.dtype, tensor.shape), ("int64", (2, 3)))
        self.assertTrue(math.isnan(float("nan")))
