"""The plug-in seam between the speech nodes and the engines behind them.

A recognition engine is a factory that makes a `Recognizer` for one grammar (or
for dictation); a synthesis engine makes a `Synthesizer`. Engines are registered
by name, so a user who brings Whisper or Vosk weights writes one class and calls
`register_recognizer("whisper", WhisperRecognizer)`, then gives the node
`engine="whisper"`. PocketSphinx and espeak-ng ship registered (they come from
Debian packages; nothing is downloaded)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Dict, Iterator, List, Optional


class SpeechEngineError(ValueError):
    """An engine that is not installed, not registered, or refuses its options."""


@dataclass(frozen=True)
class Word:
    """One recognised word; times in seconds from the start of the utterance's audio."""

    text: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class Transcript:
    """What a recogniser heard in one utterance: empty text when it heard no words."""

    text: str
    words: List[Word] = field(default_factory=list)


class Recognizer:
    """One decoder, used for one utterance at a time: start, accept..., finish.

    Audio is 16-bit little-endian mono PCM at `sample_rate`."""

    sample_rate = 16000

    def start(self) -> None:
        raise NotImplementedError

    def accept(self, pcm16: bytes) -> None:
        raise NotImplementedError

    def partial(self) -> Optional[str]:
        """The best hypothesis so far in this utterance, or None (engines may not have one)."""
        return None

    def in_speech(self) -> bool:
        """Whether the engine's own voice activity detector is in speech now.
        Needed only for `endpointing="silence"`; engines without one raise."""
        raise SpeechEngineError(f"{type(self).__name__} has no voice activity detector: use endpointing='input'")

    def finish(self) -> Transcript:
        raise NotImplementedError

    def close(self) -> None:
        """Frees the engine's resources; the node calls it at clean-up."""


class Synthesizer:
    """Turns text into 16-bit little-endian mono PCM at `sample_rate`, in pieces as they are made."""

    sample_rate = 22050

    def synthesize(self, text: str) -> Iterator[bytes]:
        raise NotImplementedError

    def close(self) -> None:
        """Stops any synthesis still running."""

    def interrupt(self) -> None:
        """Stops the synthesis running now, if any, without an error: the text's
        generator ends early. May be called from another thread (the node runner's
        request reader) while `synthesize` runs; the engine stays usable."""


# factory(grammar=<JSGF str or None for dictation>, **engine_options) -> Recognizer
RecognizerFactory = Callable[..., Recognizer]
# factory(voice=str, rate=int, pitch=int, **engine_options) -> Synthesizer
SynthesizerFactory = Callable[..., Synthesizer]

_RECOGNIZERS: Dict[str, RecognizerFactory] = {}
_SYNTHESIZERS: Dict[str, SynthesizerFactory] = {}


def register_recognizer(name: str, factory: RecognizerFactory) -> None:
    """Makes `engine=name` available to SpeechToText (replacing any engine of that name)."""
    _check_name(name)
    _RECOGNIZERS[name] = factory


def register_synthesizer(name: str, factory: SynthesizerFactory) -> None:
    """Makes `engine=name` available to TextToSpeech (replacing any engine of that name)."""
    _check_name(name)
    _SYNTHESIZERS[name] = factory


def recognizer_names() -> List[str]:
    return sorted(_RECOGNIZERS)


def synthesizer_names() -> List[str]:
    return sorted(_SYNTHESIZERS)


def create_recognizer(engine: str, grammar: Optional[str], options: Dict) -> Recognizer:
    factory = _RECOGNIZERS.get(engine)
    if factory is None:
        raise SpeechEngineError(
            f"engine: no recognition engine named {engine!r}; registered: {', '.join(recognizer_names()) or 'none'}"
        )
    return factory(grammar=grammar, **options)


def create_synthesizer(engine: str, voice: str, rate: int, pitch: int, options: Dict) -> Synthesizer:
    factory = _SYNTHESIZERS.get(engine)
    if factory is None:
        raise SpeechEngineError(
            f"engine: no synthesis engine named {engine!r}; registered: {', '.join(synthesizer_names()) or 'none'}"
        )
    return factory(voice=voice, rate=rate, pitch=pitch, **options)


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not name:
        raise SpeechEngineError(f"an engine name must be a non-empty str, found {name!r}")
