"""The speech nodes on real engines (Debian's PocketSphinx and espeak-ng), on
speech made here by espeak-ng. They need those packages and take about half a
minute, so the package's shared runner (run.py, which also runs in Pyodide) leaves
them out; tests/node/speech-nodes.test.ts runs them under /usr/bin/python3 with
REMOTEMEDIA_SPEECH_TESTS=1:

    REMOTEMEDIA_SPEECH_TESTS=1 /usr/bin/python3 -m unittest tests.test_speech -v   (in python-packages/)"""

from __future__ import annotations

import math
import os
import random
import time
import unittest
from array import array

from remotemedia.data import RuntimeData
from remotemedia.nodes.speech import (
    GrammarError,
    PocketSphinxRecognizer,
    Recognizer,
    SpeechEngineError,
    SpeechToText,
    TextToSpeech,
    recognizer_names,
    register_recognizer,
)

from .test_speech_fixtures import COMMAND_GRAMMAR, COMMAND_VOICES, COMMANDS, speak


def load_tests(loader, tests, pattern):
    if os.environ.get("REMOTEMEDIA_SPEECH_TESTS") != "1":
        return unittest.TestSuite()
    return tests


def texts(outputs):
    return [o.text for o in outputs if o.kind == "text"]


def joined(chunks) -> array:
    out = array("f")
    for chunk in chunks:
        out.extend(chunk.samples)
    return out


def rms_dbfs(samples) -> float:
    return 10 * math.log10(sum(x * x for x in samples) / len(samples) + 1e-20)


class CommandRecognition(unittest.TestCase):
    def test_spoken_commands_with_the_grammar_are_at_least_95_percent_exact(self):
        node = SpeechToText(grammar=COMMAND_GRAMMAR)
        node.initialize()
        wrong = []
        total = 0
        for voice in COMMAND_VOICES:
            for phrase in COMMANDS:
                heard = texts(node.process(RuntimeData.audio(speak(phrase, voice, pad_s=0.2), 16000))) or [""]
                total += 1
                if heard != [phrase]:
                    wrong.append((voice, phrase, heard))
        node.cleanup()
        exact = (total - len(wrong)) / total
        print(f"\ncommands: {total - len(wrong)}/{total} exact ({exact:.1%}) in {len(COMMAND_VOICES)} voices; wrong: {wrong}")
        self.assertGreaterEqual(total, 80)
        self.assertGreaterEqual(exact, 0.95, wrong)

    def test_a_keyword_list_is_a_grammar_and_words_are_timed(self):
        node = SpeechToText(keywords=["Turn on the light", "stop"], partials=True)
        node.initialize()
        outputs = list(node.process(RuntimeData.audio(speak("turn on the light", pad_s=0.5), 16000, timestamp_us=2_000_000)))
        self.assertEqual(texts(outputs), ["turn on the light"])
        partials = [o for o in outputs if o.kind == "event" and o.name == "partial_transcript"]
        self.assertTrue(partials and partials[-1].payload["text"] in ("turn on the light", "turn on the"))
        final = [o for o in outputs if o.kind == "event" and o.name == "transcript"][0].payload
        # The speech begins after 0.5 s of silence, in a frame stamped 2 s.
        self.assertGreater(final["start_us"], 2_400_000)
        self.assertLess(final["start_us"], 2_700_000)
        self.assertGreater(final["end_us"], final["start_us"] + 500_000)
        self.assertEqual([w["word"] for w in final["words"]], ["turn", "on", "the", "light"])
        starts = [w["start_us"] for w in final["words"]]
        self.assertEqual(starts, sorted(starts))
        text = [o for o in outputs if o.kind == "text"][0]
        self.assertEqual(text.timestamp_us, final["start_us"])

    def test_a_stream_is_cut_into_utterances_at_silences(self):
        phrases = ["turn on the light", "what time is it", "stop", "close the window"]
        node = SpeechToText(keywords=phrases, endpointing="silence")
        node.initialize()
        stream = array("f")
        starts = []
        for phrase in phrases:
            starts.append(len(stream) / 16000 + 0.5)
            stream.extend(speak(phrase, pad_s=0.5))
            stream.extend(array("f", [0.0]) * 8000)
        # A microphone's noise floor (about -70 dBFS): on digital silence PocketSphinx's
        # estimates drift and a grammar can match nothing after a long pause.
        noise = random.Random(7)
        stream = array("f", (x + noise.gauss(0.0, 3e-4) for x in stream))
        outputs = []
        for at in range(0, len(stream), 320):  # 20 ms blocks, as a microphone sends them
            outputs += node.process(RuntimeData.audio(stream[at : at + 320], 16000, timestamp_us=at * 1e6 / 16000))
        outputs += node.flush() or []
        self.assertEqual(texts(outputs), phrases)
        # A noise burst may open an utterance heard as nothing: its transcript is empty.
        finals = [o.payload for o in outputs if o.kind == "event" and o.name == "transcript" and o.payload["text"]]
        self.assertEqual(len(finals), len(phrases))
        for final, start in zip(finals, starts):
            self.assertAlmostEqual(final["start_us"] / 1e6, start, delta=0.15)


class BadInput(unittest.TestCase):
    def test_empty_or_non_speech_audio_is_an_empty_transcript(self):
        for node in (SpeechToText(grammar=COMMAND_GRAMMAR), SpeechToText()):
            node.initialize()
            tone = array("f", (0.3 * math.sin(2 * math.pi * 440 * i / 16000) for i in range(16000)))
            for audio in (array("f"), array("f", [0.0]) * 16000, tone):
                outputs = list(node.process(RuntimeData.audio(audio, 16000)))
                self.assertEqual(texts(outputs), [])
                self.assertEqual([(o.name, o.payload["text"]) for o in outputs], [("transcript", "")])
        stream = SpeechToText(grammar=COMMAND_GRAMMAR, endpointing="silence")
        stream.initialize()
        self.assertEqual(list(stream.process(RuntimeData.audio(array("f", [0.0]) * 32000, 16000))), [])
        self.assertEqual(stream.flush(), None)

    def test_a_grammar_that_does_not_parse_is_an_error_naming_its_line(self):
        bad = "#JSGF V1.0;\ngrammar g;\npublic <g> = turn on | stop\n<x> = open;\n"
        with self.assertRaisesRegex(GrammarError, r"grammar line 4: .*"):
            SpeechToText(grammar=bad)
        with self.assertRaisesRegex(GrammarError, r"grammar line 3: <thing> is not defined"):
            SpeechToText(grammar="#JSGF V1.0;\ngrammar g;\npublic <g> = turn on the <thing>;\n")
        node = SpeechToText(grammar="#JSGF V1.0;\ngrammar g;\npublic <g> = stop\n  | zzxqj;\n")
        with self.assertRaisesRegex(GrammarError, r"grammar line 4: the word 'zzxqj' is not in the pronunciation dictionary"):
            node.initialize()

    def test_audio_at_another_rate_says_what_to_put_before_it(self):
        node = SpeechToText(keywords=["stop"])
        node.initialize()
        with self.assertRaisesRegex(ValueError, r"needs 16000 Hz mono audio, received 44100 Hz .* Resample"):
            node.process(RuntimeData.audio(array("f", [0.0]) * 441, 44100))
        with self.assertRaisesRegex(TypeError, "takes audio, received str"):
            node.process("stop")

    def test_params_out_of_range_are_errors_naming_them(self):
        with self.assertRaisesRegex(ValueError, "endpointing must be one of input, silence"):
            SpeechToText(endpointing="vad")
        with self.assertRaisesRegex(ValueError, "sample_rate must be 16000 or 22050"):
            TextToSpeech(sample_rate=48000)
        with self.assertRaisesRegex(ValueError, "pitch must be an integer from 0 to 99"):
            TextToSpeech(pitch=120)
        with self.assertRaisesRegex(SpeechEngineError, "no voice 'xx-nope'"):
            TextToSpeech(voice="xx-nope").initialize()
        with self.assertRaisesRegex(SpeechEngineError, "not an espeak-ng voice name"):
            TextToSpeech(voice="--stdout").initialize()


class EngineSeam(unittest.TestCase):
    def test_a_registered_engine_is_used_by_name(self):
        calls = []

        class Recording(Recognizer):
            """A user's engine: here it wraps the shipped one and records what it is given."""

            def __init__(self, grammar=None, **options):
                self.inner = PocketSphinxRecognizer(grammar=grammar)
                calls.append(("create", grammar is not None, options))

            def start(self):
                self.inner.start()

            def accept(self, pcm16):
                calls.append(("accept", len(pcm16)))
                self.inner.accept(pcm16)

            def finish(self):
                return self.inner.finish()

        register_recognizer("recording", Recording)
        self.assertIn("recording", recognizer_names())
        node = SpeechToText(engine="recording", keywords=["stop", "play music"], engine_options={"beam": 1})
        node.initialize()
        self.assertEqual(texts(node.process(RuntimeData.audio(speak("play music", pad_s=0.2), 16000))), ["play music"])
        self.assertEqual(calls[0], ("create", True, {"beam": 1}))
        self.assertTrue(all(n <= 3200 for op, n in (c for c in calls[1:])))  # 100 ms pieces of 16-bit audio
        with self.assertRaisesRegex(SpeechEngineError, r"no recognition engine named 'whisper'; registered: .*pocketsphinx"):
            SpeechToText(engine="whisper").initialize()


class Synthesis(unittest.TestCase):
    SENTENCE = "the quick brown fox jumps over the lazy dog"

    def test_audio_of_plausible_duration_and_level_that_recognition_reads_back(self):
        for rate in (16000, 22050):
            node = TextToSpeech(sample_rate=rate, chunk_ms=100)
            node.initialize()
            chunks = list(node.process(self.SENTENCE))
            self.assertTrue(all(c.sample_rate == rate and c.channels == 1 for c in chunks))
            self.assertTrue(all(len(c.samples) == rate // 10 for c in chunks[:-1]))
            self.assertEqual([c.timestamp_us for c in chunks], [i * 100_000 for i in range(len(chunks))])
            audio = joined(chunks)
            seconds = len(audio) / rate
            # 9 words at 175 words a minute is 3.1 s; espeak-ng adds pauses at each end.
            self.assertGreater(seconds, 2.0)
            self.assertLess(seconds, 5.0)
            level = rms_dbfs(audio)
            self.assertGreater(level, -35)
            self.assertLess(level, -6)
            self.assertLessEqual(max(abs(x) for x in audio), 1.0)
            if rate == 16000:
                grammar = f"#JSGF V1.0;\ngrammar s;\npublic <s> = {self.SENTENCE};\n"
                listener = SpeechToText(grammar=grammar)
                listener.initialize()
                self.assertEqual(texts(listener.process(RuntimeData.audio(audio, 16000))), [self.SENTENCE])

    def test_rate_and_pitch_change_the_speech(self):
        lengths = {}
        for rate in (120, 300):
            node = TextToSpeech(rate=rate, sample_rate=16000)
            node.initialize()
            lengths[rate] = len(joined(node.process(self.SENTENCE)))
        self.assertGreater(lengths[120], 1.8 * lengths[300])
        low, high = TextToSpeech(pitch=10), TextToSpeech(pitch=90)
        low.initialize()
        high.initialize()
        self.assertNotEqual(joined(low.process("hello")).tobytes(), joined(high.process("hello")).tobytes())

    def test_100_kB_of_text_is_synthesized_in_bounded_chunks_as_it_goes(self):
        node = TextToSpeech(sample_rate=16000, chunk_ms=50)
        node.initialize()
        text = ("This sentence is one of very many. " * 3000)[:100_000]
        started = time.monotonic()
        chunks = node.process(text)
        first = [next(chunks) for _ in range(40)]  # two seconds of audio
        took = time.monotonic() - started
        chunks.close()  # the consumer stops: espeak-ng is stopped with it
        self.assertTrue(all(len(c.samples) == 800 for c in first))
        # Only the first pieces were synthesized, not 100 kB (an hour of speech).
        self.assertLess(took, 10)
        self.assertIsNone(node._synthesizer._process)
        self.assertEqual(list(node.process("   ")), [])

    def test_the_16_kHz_resampler_is_the_same_in_pieces_and_keeps_a_tone(self):
        from remotemedia.nodes.speech.pcm import StreamResampler

        tone = array("f", (0.5 * math.sin(2 * math.pi * 440 * i / 22050) for i in range(22050)))
        whole = StreamResampler(22050, 16000).push(tone, final=True)
        pieces = StreamResampler(22050, 16000)
        parts = array("f")
        for at in range(0, len(tone), 777):
            parts.extend(pieces.push(tone[at : at + 777]))
        parts.extend(pieces.push(array("f"), final=True))
        self.assertEqual(len(whole), 16000)
        self.assertEqual(parts.tobytes(), whole.tobytes())
        error = max(abs(whole[i] - 0.5 * math.sin(2 * math.pi * 440 * i / 16000)) for i in range(100, 15900))
        self.assertLess(error, 1e-4)


class SynthesisBargeIn(unittest.IsolatedAsyncioTestCase):
    """Barge-in on the pure-Python executor with the real engine: the reply stops
    mid-way, and nothing of it comes after the interrupt."""

    async def test_an_interrupt_stops_a_long_reply_and_only_the_next_reply_follows_it(self):
        import asyncio

        from remotemedia import Pipeline

        def pipeline():
            return Pipeline("speak").add_node(TextToSpeech(name="tts", sample_rate=16000, chunk_ms=100)).barge_in(["tts"])

        long_reply = "This reply goes on and on, sentence after sentence. " * 20
        alone = [out async for out in pipeline().process(_items([long_reply, "okay"]))]
        long_chunks = len(alone) - len([out async for out in pipeline().process(_items(["okay"]))])
        self.assertGreater(long_chunks, 100)  # tens of seconds of speech

        speaking = pipeline()
        first = asyncio.Event()

        async def inputs():
            yield long_reply
            await first.wait()  # the user speaks once the reply is audible
            yield RuntimeData.control("interrupt")
            yield "okay"

        outputs = []
        async for out in speaking.process(inputs()):
            outputs.append(out)
            first.set()
        cut = next(i for i, o in enumerate(outputs) if o.kind == "control")
        before, after = outputs[:cut], outputs[cut + 1 :]
        self.assertLess(len(before), 5)  # of more than 100: stopped mid-way
        self.assertEqual(len(after), len(alone) - long_chunks)  # "okay", and nothing of the long reply
        tts = speaking.metrics()[0]
        self.assertEqual(tts["interrupts"], 1)


async def _items(items):
    for item in items:
        yield item
