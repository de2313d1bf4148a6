"""Speech nodes: `SpeechToText` (recognition) and `TextToSpeech` (synthesis), each
with its engine behind a plug-in seam (engines.py). PocketSphinx and espeak-ng
ship registered; `register_recognizer` / `register_synthesizer` add others."""

from .engines import (
    Recognizer,
    SpeechEngineError,
    Synthesizer,
    Transcript,
    Word,
    create_recognizer,
    create_synthesizer,
    recognizer_names,
    register_recognizer,
    register_synthesizer,
    synthesizer_names,
)
from .espeak_engine import EspeakNgSynthesizer
from .grammar import GrammarError, keywords_grammar, parse_jsgf
from .pocketsphinx_engine import PocketSphinxRecognizer
from .speech_to_text import SpeechToText
from .text_to_speech import TextToSpeech

register_recognizer("pocketsphinx", PocketSphinxRecognizer)
register_synthesizer("espeak-ng", EspeakNgSynthesizer)

__all__ = [
    "EspeakNgSynthesizer", "GrammarError", "PocketSphinxRecognizer", "Recognizer", "SpeechEngineError",
    "SpeechToText", "Synthesizer", "TextToSpeech", "Transcript", "Word", "create_recognizer",
    "create_synthesizer", "keywords_grammar", "parse_jsgf", "recognizer_names", "register_recognizer",
    "register_synthesizer", "synthesizer_names",
]
