"""Speech benchmark (no TestCase: the suites do not run it). Prints a Markdown table
of the dictation word error rate of SpeechToText (PocketSphinx's general language
model) on espeak-ng speech, and the recognition real-time factor against the
PocketSphinx decoder called directly on the same audio, in the same run; and
TextToSpeech's time to first audio and real-time factor against the espeak-ng
command line on the same text:

    cd python-packages && /usr/bin/python3 -m tests.test_speech_benchmark"""

from __future__ import annotations

import statistics
import subprocess
import time

from remotemedia.data import RuntimeData
from remotemedia.nodes.speech import SpeechToText, TextToSpeech
from remotemedia.nodes.speech.pcm import float_to_pcm16

from .test_speech_fixtures import COMMAND_VOICES, DICTATION, speak, word_errors


def main() -> None:
    node = SpeechToText()  # dictation: no grammar
    node.initialize()
    direct = node._recognizer._decoder  # the same PocketSphinx decoder, called without the node
    print("| voice | sentences | words | errors | WER | node RTF | direct decoder RTF |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    all_words = all_errors = 0
    for voice in COMMAND_VOICES:
        words = errors = 0
        audio_s = node_s = direct_s = 0.0
        for sentence in DICTATION:
            audio = speak(sentence, voice, pad_s=0.2)
            audio_s += len(audio) / 16000
            started = time.perf_counter()
            heard = " ".join(o.text for o in node.process(RuntimeData.audio(audio, 16000)) if o.kind == "text")
            node_s += time.perf_counter() - started
            pcm = float_to_pcm16(audio)
            started = time.perf_counter()
            direct.start_utt()
            direct.process_raw(pcm, False, True)
            direct.end_utt()
            direct_s += time.perf_counter() - started
            words += len(sentence.split())
            errors += word_errors(sentence, heard)
        all_words += words
        all_errors += errors
        print(f"| {voice} | {len(DICTATION)} | {words} | {errors} | {errors / words:.0%} | "
              f"{node_s / audio_s:.2f} | {direct_s / audio_s:.2f} |")
    print(f"| all | {len(DICTATION) * len(COMMAND_VOICES)} | {all_words} | {all_errors} | {all_errors / all_words:.0%} | | |")
    node.cleanup()


SYNTHESIS_TEXT = " ".join(DICTATION[:3]) + "."


def cli_synthesis(text: str) -> "tuple[float, float, int]":
    """espeak-ng --stdout on its own: seconds to its first PCM bytes, to the end, and bytes of PCM."""
    started = time.perf_counter()
    process = subprocess.Popen(["espeak-ng", "-v", "en-us", "--stdout", text], stdout=subprocess.PIPE)
    first = None
    total = 0
    while True:
        chunk = process.stdout.read1(4096)
        if not chunk:
            break
        total += len(chunk)
        if first is None and total > 44:
            first = time.perf_counter() - started
    process.wait()
    return first or 0.0, time.perf_counter() - started, total - 44


def node_synthesis(node: TextToSpeech, text: str) -> "tuple[float, float, int]":
    started = time.perf_counter()
    first = None
    samples = 0
    for chunk in node.process(text):
        if first is None:
            first = time.perf_counter() - started
        samples += len(chunk.samples)
    return first or 0.0, time.perf_counter() - started, samples


def synthesis(runs: int = 5) -> None:
    print()
    print(f"TextToSpeech on {len(SYNTHESIS_TEXT)} characters, median of {runs} runs:")
    print()
    print("| what | first audio | total | audio | RTF |")
    print("| --- | --- | --- | --- | --- |")
    rows = [("espeak-ng --stdout (22.05 kHz)", lambda: cli_synthesis(SYNTHESIS_TEXT), 22050 * 2)]
    for rate in (22050, 16000):
        node = TextToSpeech(sample_rate=rate, chunk_ms=100)
        node.initialize()
        rows.append((f"TextToSpeech {rate} Hz, 100 ms chunks", lambda n=node: node_synthesis(n, SYNTHESIS_TEXT), rate))
    for name, measure, per_second in rows:
        results = [measure() for _ in range(runs)]
        first = statistics.median(r[0] for r in results)
        total = statistics.median(r[1] for r in results)
        audio = results[0][2] / per_second
        print(f"| {name} | {first * 1000:.0f} ms | {total * 1000:.0f} ms | {audio:.2f} s | {total / audio:.3f} |")


if __name__ == "__main__":
    main()
    synthesis()
