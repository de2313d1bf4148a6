"""remotemedia.nodes.audio: the built-in audio node types in Python give what the
runtime's (the TypeScript core's) give on the same input. The runtime is real: under
CPython a gateway (REMOTEMEDIA_TEST_GATEWAY, started by tests/node/python-package.test.ts)
runs the manifest; inside Pyodide the core beside the interpreter does. The Python
side runs with numpy and, under CPython, without it too."""

from __future__ import annotations

import asyncio
import math
import os
import subprocess
import sys
import tempfile
import unittest
from array import array

import remotemedia_runtime
from remotemedia import Node, Pipeline, RuntimeData
from remotemedia.core.errors import NoPythonImplementation, NumpyRequired
from remotemedia.nodes import audio as audio_nodes
from remotemedia.nodes.audio import (
    Accumulator, AudioSource, AudioTransform, ChannelMix, EnergyVAD, FormatConvert, Gain, LogMel, Rebuffer, Resample,
    SileroVAD, read_wav, use_numpy, write_wav,
)

RESAMPLE_TOLERANCE = 1e-6  # float32 rounding: the runtime's WASM kernel sums in float32 lanes
# Whisper's scaled units (1 = 40 dB): the runtime's DFT is float32, numpy's FFT float64.
LOG_MEL_TOLERANCE = 1e-4


def tone(rate: int, frames: int, channels: int = 1, chunk: int = 777) -> list:
    """Two tones (one above 8 kHz, which resampling to 16 kHz must remove), in odd-sized chunks."""
    samples = array("f")
    for i in range(frames):
        v = 0.5 * math.sin(2 * math.pi * 440 * i / rate) + 0.45 * math.sin(2 * math.pi * 9000 * i / rate)
        samples.extend([v * (1 if c == 0 else -0.5) for c in range(channels)])
    step = chunk * channels
    return [RuntimeData.audio(samples[a : a + step], rate, channels, a / channels / rate * 1e6)
            for a in range(0, len(samples), step)]


def speechlike(rate: int = 16000) -> list:
    """Silence, a loud burst, silence again: what EnergyVAD has to find."""
    samples = array("f", [0.0] * (rate // 2))
    samples.extend(0.3 * math.sin(2 * math.pi * 300 * i / rate) for i in range(rate // 2))
    samples.extend([0.0] * rate)
    return [RuntimeData.audio(samples[a : a + 320], rate, 1, a / rate * 1e6) for a in range(0, len(samples), 320)]


class RuntimeConfigured(unittest.TestCase):
    """Points remotemedia_runtime at the test gateway under CPython (inside Pyodide
    the runtime is the core beside it)."""

    def setUp(self):
        self.saved = {k: os.environ.get(k) for k in ("REMOTEMEDIA_GATEWAY_URL", "REMOTEMEDIA_GATEWAY_TOKEN")}
        if remotemedia_runtime.where() == "pyodide":
            return
        address = os.environ.get("REMOTEMEDIA_TEST_GATEWAY")
        if not address:
            raise unittest.SkipTest("no gateway in REMOTEMEDIA_TEST_GATEWAY: run through tests/node/python-package.test.ts")
        host, port, token = address.split(":", 2)
        os.environ["REMOTEMEDIA_GATEWAY_URL"] = f"ws://{host}:{port}"
        os.environ["REMOTEMEDIA_GATEWAY_TOKEN"] = token

    def tearDown(self):
        use_numpy(True)
        for key, value in self.saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    async def both(self, make_nodes, inputs=None):
        """(runtime outputs, [pure-Python outputs with numpy, and without where there is numpy])."""
        def pipeline():
            p = Pipeline("parity")
            for node in make_nodes():
                p.add_node(node)
            return p

        on_runtime = pipeline()
        ours = await on_runtime.run(inputs, use_runtime=True)
        self.assertEqual(on_runtime.last_run[0], "runtime", on_runtime.last_run[1])
        results = []
        for numpy in ((True, False) if audio_nodes._support.numpy_or_none() is not None else (False,)):
            use_numpy(numpy)
            here = pipeline()
            results.append(await here.run(inputs, use_runtime=False))
            self.assertEqual(here.last_run[0], "python")
        use_numpy(True)
        return ours, results

    def assertSameAudio(self, runtime, python, tolerance=0.0):
        self.assertEqual([o.kind for o in python], [o.kind for o in runtime])
        for ours, theirs in zip(python, runtime):
            self.assertEqual(ours.timestamp_us, theirs.timestamp_us)
            if ours.kind == "event":
                self.assertEqual((ours.name, ours.payload), (theirs.name, theirs.payload))
                continue
            self.assertEqual((ours.sample_rate, ours.channels, len(ours.samples)),
                             (theirs.sample_rate, theirs.channels, len(theirs.samples)))
            worst = max((abs(a - b) for a, b in zip(ours.samples, theirs.samples)), default=0.0)
            self.assertLessEqual(worst, tolerance)


class AudioNodesMatchTheRuntime(RuntimeConfigured):
    async def test_resample_48k_to_16k_matches_within_float32_rounding(self):
        runtime, pythons = await self.both(lambda: [Resample(target_rate=16000)], tone(48000, 4800))
        self.assertEqual(sum(len(o.samples) for o in runtime), 1600)
        for python in pythons:
            self.assertSameAudio(runtime, python, RESAMPLE_TOLERANCE)

    async def test_resample_of_stereo_44k1_to_16k_low_quality_matches(self):
        runtime, pythons = await self.both(lambda: [Resample(target_rate=16000, quality="low")], tone(44100, 2205, 2, 500))
        for python in pythons:
            self.assertSameAudio(runtime, python, RESAMPLE_TOLERANCE)

    async def test_resample_cascades_with_half_band_stages_match(self):
        # 48k -> 8k at best: two half-band stages; 44.1k -> 16k stereo: one, then 320/441;
        # 96k -> 16k: two, then 2/3 (resample-filter.ts's planResample).
        for rate, target, channels, quality in ((48000, 8000, 1, "best"), (44100, 16000, 2, "high"),
                                                (96000, 16000, 2, "high")):
            with self.subTest(rate=rate, target=target, quality=quality):
                runtime, pythons = await self.both(lambda: [Resample(target_rate=target, quality=quality)],
                                                   tone(rate, rate // 10, channels, 611))
                self.assertEqual(sum(len(o.samples) for o in runtime), -(-rate // 10 * target // rate) * channels)
                for python in pythons:
                    self.assertSameAudio(runtime, python, RESAMPLE_TOLERANCE)

    async def test_gain_with_and_without_clip_matches_exactly(self):
        for clip in (True, False):
            runtime, pythons = await self.both(lambda: [Gain(gain_db=9.5, clip=clip)], tone(16000, 1000))
            for python in pythons:
                self.assertSameAudio(runtime, python)
            self.assertEqual(max(abs(v) for o in runtime for v in o.samples) > 1.0, not clip)

    async def test_rebuffer_with_overlap_and_its_padded_tail_matches_exactly(self):
        runtime, pythons = await self.both(lambda: [Rebuffer(frame_size=400, hop=160)], tone(16000, 2000))
        for python in pythons:
            self.assertSameAudio(runtime, python)

    async def test_format_convert_to_int16_and_back_matches_byte_for_byte(self):
        nodes = lambda: [FormatConvert(to="int16", channels=1)]  # noqa: E731
        runtime, pythons = await self.both(nodes, tone(22050, 900, 2, 300))
        for python in pythons:
            # The runtime's binary comes back as bytes (marshal.py); here it keeps its mime type.
            self.assertEqual([o.data for o in python], runtime)
            self.assertEqual(python[0].mime_type, "audio/pcm;format=s16le;rate=22050;channels=1")
        # And back to float32: the mono mix, to within one int16 step.
        back = FormatConvert(sample_rate=22050).process(runtime[0])
        mono = ChannelMix(channels=1).process(tone(22050, 900, 2, 300)[0])
        self.assertLessEqual(max(abs(a - b) for a, b in zip(back.samples, mono.samples)), 1 / 32768)

    async def test_channel_mix_and_planar_tensors_match(self):
        runtime, pythons = await self.both(lambda: [ChannelMix(channels=1)], tone(16000, 600, 2, 250))
        for python in pythons:
            self.assertSameAudio(runtime, python)
        runtime, pythons = await self.both(lambda: [FormatConvert(to="planar")], tone(16000, 300, 2, 300))
        for python in pythons:
            self.assertEqual([tuple(o.shape) for o in python], [tuple(o.shape) for o in runtime])
            self.assertEqual([o.data.tolist() for o in python], [o.data.tolist() for o in runtime])

    async def test_energy_vad_finds_the_same_speech_at_the_same_times(self):
        runtime, pythons = await self.both(lambda: [EnergyVAD(threshold_db=-30, emit_audio=False)], speechlike())
        self.assertEqual([o.name for o in runtime], ["speech_start", "speech_end"])
        self.assertEqual(runtime[0].timestamp_us, 500_000)
        for python in pythons:
            self.assertSameAudio(runtime, python)

    async def test_accumulator_cuts_the_same_frames(self):
        runtime, pythons = await self.both(lambda: [Accumulator(duration_ms=30)], tone(16000, 1500, 1, 200))
        for python in pythons:
            self.assertSameAudio(runtime, python)

    async def test_log_mel_matches_in_both_modes_or_says_it_needs_numpy(self):
        speech = speechlike()[:40]  # 0.8 s: silence, then the burst
        for mode in ("stream", "utterance"):
            on_runtime = Pipeline("mel").add_node(LogMel(mode=mode))
            runtime = await on_runtime.run(speech)
            self.assertEqual(on_runtime.last_run[0], "runtime")
            if audio_nodes._support.numpy_or_none() is None:  # Pyodide without numpy loaded
                with self.assertRaises(NumpyRequired) as caught:
                    await Pipeline("mel").add_node(LogMel(name="mel", mode=mode)).run(speech, use_runtime=False)
                self.assertIn("mel: LogMel needs numpy", str(caught.exception))
                continue
            python = await Pipeline("mel").add_node(LogMel(mode=mode)).run(speech, use_runtime=False)
            # The same tensors on the same schedule (stream: each as its frames complete).
            self.assertEqual([(o.shape, o.timestamp_us) for o in python], [(o.shape, o.timestamp_us) for o in runtime])
            self.assertEqual(sum(o.shape[1] for o in runtime), 80)
            worst = max(abs(a - b) for ours, theirs in zip(python, runtime) for a, b in zip(ours.data, theirs.data))
            self.assertLess(worst, LOG_MEL_TOLERANCE)
        use_numpy(False)
        with self.assertRaises(NumpyRequired) as caught:
            LogMel(n_mels=128).process(speech[0])
        self.assertIn("python3-numpy", str(caught.exception))

    async def test_audio_transform_is_a_channel_mix_then_a_resample_on_both_paths(self):
        runtime, pythons = await self.both(
            lambda: [AudioTransform(name="transform", output_sample_rate=16000, output_channels=1)], tone(48000, 2400, 2)
        )
        self.assertEqual({(o.sample_rate, o.channels) for o in runtime}, {(16000, 1)})
        for python in pythons:
            self.assertSameAudio(runtime, python, RESAMPLE_TOLERANCE)


class SourcePipelines(RuntimeConfigured):
    """The original's source pipeline: AudioSource then AudioTransform, run with no input."""

    def pipeline(self, **source):
        p = Pipeline(name="source_pipeline")
        p.add_node(AudioSource(name="source", **source))
        p.add_node(AudioTransform(name="transform"))
        return p

    async def test_the_original_source_pipeline_runs_with_no_input_on_both_paths(self):
        outputs = {}
        for use_runtime in (True, False):
            p = self.pipeline()
            outputs[use_runtime] = await p.run(use_runtime=use_runtime)
            self.assertEqual(p.last_run[0], "runtime" if use_runtime else "python")
        runtime, python = outputs[True], outputs[False]
        # One second of a 16 kHz sine, as the original's AudioTransform makes it: 44.1 kHz stereo.
        self.assertEqual({(o.sample_rate, o.channels) for o in runtime}, {(44100, 2)})
        self.assertEqual(sum(len(o.samples) for o in runtime), 2 * 44100)
        self.assertSameAudio(runtime, python, RESAMPLE_TOLERANCE)
        # The source is not in the manifest: it runs in Python and its chunks are the input.
        self.assertEqual([n["node_type"] for n in self.pipeline().manifest()["nodes"]], ["FormatConvert", "Resample"])

    async def test_a_wav_file_as_the_source(self):
        path = os.path.join(tempfile.mkdtemp(), "tone.wav")
        written = write_wav(path, tone(22050, 2205, 2))
        self.assertEqual(written, (2205, 22050, 2))
        samples, rate, channels = read_wav(path)
        self.assertEqual((len(samples), rate, channels), (4410, 22050, 2))
        self.assertLessEqual(abs(samples[200] - tone(22050, 2205, 2)[0].samples[200]), 1 / 32768)
        p = Pipeline("wav")
        p.add_node(AudioSource(path=path, chunk_ms=10))
        p.add_node(Gain(gain_db=-6))
        out = await p.run()
        self.assertEqual(p.last_run[0], "runtime")
        self.assertEqual(len(out), 10)  # 100 ms in 10 ms chunks
        self.assertAlmostEqual(out[0].samples[200], samples[200] * 10 ** (-6 / 20), places=6)

    async def test_a_source_before_a_node_the_runtime_lacks_falls_back_and_runs_once(self):
        class Count(Node):
            def process(self, data):
                return len(data.samples)

        p = Pipeline("fallback").add_node(AudioSource(duration_s=0.1)).add_node(Count(name="count"))
        self.assertEqual(await p.run(), [320] * 5)
        self.assertEqual(p.last_run[0], "python")
        self.assertIn("count", p.last_run[1])

    async def test_a_source_given_input_or_alone_runs_in_python_and_says_why(self):
        alone = Pipeline("alone").add_node(AudioSource(duration_s=0.1, signal="noise"))
        out = await alone.run()
        self.assertEqual((alone.last_run[0], len(out)), ("python", 5))
        self.assertIn("only sources", alone.last_run[1])
        again = await Pipeline("alone").add_node(AudioSource(duration_s=0.1, signal="noise")).run(use_runtime=False)
        self.assertEqual([o.samples.tolist() for o in again], [o.samples.tolist() for o in out])  # seeded
        with self.assertRaises(ValueError) as caught:
            await self.pipeline(duration_s=0.05).run([1], use_runtime=False)
        self.assertIn("take no input", str(caught.exception))


class WhatDoesNotRunInPython(unittest.TestCase):
    async def test_a_runtime_only_node_names_itself_and_the_way_to_run_it(self):
        p = Pipeline("vad").add_node(Resample(target_rate=16000)).add_node(SileroVAD(name="vad", redemption_ms=300))
        self.assertEqual(p.manifest()["nodes"][1], {"id": "vad", "node_type": "SileroVAD", "params": {"redemption_ms": 300}})
        with self.assertRaises(NoPythonImplementation) as caught:
            await p.run(tone(16000, 320), use_runtime=False)
        message = str(caught.exception)
        self.assertIn("vad: SileroVAD has no Python implementation", message)
        self.assertIn("REMOTEMEDIA_GATEWAY_URL", message)
        self.assertIn("NoPythonImplementation", type(caught.exception).__name__)

    def test_bad_params_and_bad_input_are_clear_errors(self):
        with self.assertRaises(ValueError) as caught:
            Resample(target_rate=10)
        self.assertIn("target_rate must be an integer from 1000 to 384000, found 10", str(caught.exception))
        with self.assertRaises(ValueError):
            Gain(gain_db=100)
        with self.assertRaises(TypeError) as caught:
            Gain(gain_db=1).process("text")
        self.assertIn("Gain takes audio", str(caught.exception))
        bad = RuntimeData.audio(array("f", [0.0, float("nan")]), 16000)
        with self.assertRaises(ValueError) as caught:
            Resample(target_rate=8000).process(bad)
        self.assertIn("samples[1]", str(caught.exception))
        node = Rebuffer(frame_size=4)
        node.process(RuntimeData.audio(array("f", [0.0] * 4), 16000))
        with self.assertRaises(ValueError) as caught:
            node.process(RuntimeData.audio(array("f", [0.0] * 4), 8000))
        self.assertIn("a stream keeps one format", str(caught.exception))

    def test_a_cascade_is_the_same_however_its_input_is_chunked(self):
        # Half-band stages then the polyphase one (48k -> 8k: two stages), on both paths.
        whole = tone(48000, 4001, 2, 4001)[0]
        for numpy in (True, False):
            previous = use_numpy(numpy)
            try:
                node = Resample(target_rate=8000, quality="best")
                expected = array("f", node.process(whole).samples)
                expected.extend(node.flush().samples)
                for chunk in (1, 97, 1000):
                    node, got = Resample(target_rate=8000, quality="best"), array("f")
                    for piece in tone(48000, 4001, 2, chunk):
                        out = node.process(piece)
                        if out is not None:
                            got.extend(out.samples)
                    got.extend(node.flush().samples)
                    self.assertEqual((numpy, chunk, got), (numpy, chunk, expected))
                self.assertEqual(len(expected), 2 * 667)
            finally:
                use_numpy(previous)

    def test_an_equiripple_design_that_does_not_converge_is_not_shipped(self):
        # resample_remez.py raises its typed error; the resampler then designs with Kaiser.
        from remotemedia.nodes.audio import resample, resample_remez

        with self.assertRaises(resample_remez.RemezError) as caught:
            resample_remez.remez_lowpass(105, 0.1344, 1 / 6, 300.0, zero_at_half=True, max_iterations=1)
        self.assertEqual(caught.exception.kind, "node_failed")
        self.assertIn("did not converge in 1 iterations", str(caught.exception))
        with self.assertRaises(ValueError):
            resample_remez.remez_lowpass(50, 0.3, 0.2, 1.0)
        shipped = resample._design(24000, 16000, "high", False)
        self.assertEqual((shipped.design, shipped.taps), ("equiripple", 114))
        # Every exchange of the search allowed one iteration: each fails, Kaiser ships.
        fallback = resample._design(24000, 16000, "high", False, 1)
        self.assertEqual((fallback.design, fallback.taps), ("kaiser", 144))
        for p in range(fallback.up):  # unit DC gain on every row, Kaiser too
            self.assertAlmostEqual(sum(fallback.table[p * fallback.taps : (p + 1) * fallback.taps]), 1.0, places=6)

    def test_with_source_rate_the_design_runs_at_initialize(self):
        # The Remez design (0.6 s in plain Python at 48 -> 16 kHz) is paid before the
        # stream starts, not in the first block's process.
        from remotemedia.nodes.audio import resample

        misses = lambda: resample._design.cache_info().misses  # noqa: E731
        before = misses()
        node = resample.Resample(target_rate=16000, source_rate=37800, quality="medium")
        self.assertEqual(misses(), before)
        node.initialize()
        self.assertEqual(misses(), before + 1)
        out = node.process(RuntimeData.audio(array("f", [0.25] * 378), 37800))
        self.assertEqual(misses(), before + 1)  # the first block designed nothing
        self.assertEqual(out.sample_rate, 16000)

    def test_the_package_imports_and_runs_without_numpy(self):
        code = (
            "import sys; sys.modules['numpy'] = None\n"
            "from array import array\n"
            "from remotemedia import RuntimeData\n"
            "from remotemedia.nodes.audio import Resample\n"
            "from remotemedia.nodes.audio._support import numpy_or_none\n"
            "assert numpy_or_none() is None\n"
            "out = Resample(target_rate=8000).process(RuntimeData.audio(array('f', [0.25] * 1600), 16000))\n"
            "print(len(out.samples), round(out.samples[400], 6))\n"
        )
        if sys.platform == "emscripten":
            # Pyodide loads no numpy unless asked: this suite itself runs without it.
            self.assertIsNone(audio_nodes._support.numpy_or_none())
            exec(compile(code.replace("print(", "result = ("), "<no numpy>", "exec"), {})
            return
        here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=here, check=True)
        # The same as here, with numpy: a constant stays exactly constant through the filter.
        out = Resample(target_rate=8000).process(RuntimeData.audio(array("f", [0.25] * 1600), 16000))
        self.assertEqual(run.stdout.split(), [str(len(out.samples)), "0.25"])
