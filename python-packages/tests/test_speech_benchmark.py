"""Speech benchmark (no TestCase: the suites do not run it). Prints a Markdown table
of the dictation word error rate of SpeechToText (PocketSphinx's general language
model) on espeak-ng speech, and the recognition real-time factor against the
PocketSphinx decoder called directly on the same audio, in the same run:

    cd python-packages && /usr/bin/python3 -m tests.test_speech_benchmark"""

from __future__ import annotations

import time

from remotemedia.data import RuntimeData
from remotemedia.nodes.speech import SpeechToText
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


if __name__ == "__main__":
    main()
