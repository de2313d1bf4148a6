"""TextToSpeech: text in; audio out in chunks of chunk_ms as they are synthesized,
at 16 or 22.05 kHz, with a pluggable engine (espeak-ng ships). Long text is cut
into pieces at sentence ends, so memory and each engine call stay bounded."""

from __future__ import annotations

import re
from array import array
from typing import Any, Dict, Iterator, List, Optional

from ...core.node import Node
from ...data import RuntimeData
from .engines import Synthesizer, create_synthesizer
from .pcm import StreamResampler, pcm16_to_float

SAMPLE_RATES = (16000, 22050)
_SENTENCE = re.compile(r"(?<=[.!?;:])\s+|\n+")


def _check_int(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"TextToSpeech: {name} must be an integer from {low} to {high}, found {value!r}")
    return value


def text_pieces(text: str, max_chars: int) -> Iterator[str]:
    """Sentences (or, for a longer one, runs of whole words; or of characters) of at most max_chars."""
    for sentence in _SENTENCE.split(text):
        sentence = " ".join(sentence.split())
        while sentence:
            if len(sentence) <= max_chars:
                yield sentence
                break
            cut = sentence.rfind(" ", 0, max_chars + 1)
            cut = cut if cut > 0 else max_chars
            yield sentence[:cut]
            sentence = sentence[cut:].lstrip()


class TextToSpeech(Node):
    """voice / rate (words per minute) / pitch (0-99) are espeak-ng's -v / -s / -p."""

    def __init__(
        self, name: Optional[str] = None, engine: str = "espeak-ng", voice: str = "en-us", rate: int = 175,
        pitch: int = 50, sample_rate: int = 22050, chunk_ms: int = 100, max_piece_chars: int = 400,
        engine_options: Optional[Dict[str, Any]] = None, **config: Any,
    ) -> None:
        if sample_rate not in SAMPLE_RATES:
            raise ValueError(f"TextToSpeech: sample_rate must be 16000 or 22050, found {sample_rate!r}")
        _check_int("rate", rate, 80, 450)
        _check_int("pitch", pitch, 0, 99)
        _check_int("chunk_ms", chunk_ms, 10, 1000)
        _check_int("max_piece_chars", max_piece_chars, 20, 4000)
        super().__init__(
            name, engine=engine, voice=voice, rate=rate, pitch=pitch, sample_rate=sample_rate, chunk_ms=chunk_ms,
            max_piece_chars=max_piece_chars, **({"engine_options": engine_options} if engine_options else {}), **config,
        )
        self.engine, self.voice, self.rate, self.pitch = engine, voice, rate, pitch
        self.sample_rate, self.chunk_ms, self.max_piece_chars = sample_rate, chunk_ms, max_piece_chars
        self.engine_options = dict(engine_options or {})
        self._synthesizer: Optional[Synthesizer] = None
        self._samples_out = 0  # the output clock, in samples
        self._generation = 0  # interrupt() counts up: a text begun before it stops

    def initialize(self) -> None:
        self._synthesizer = create_synthesizer(self.engine, self.voice, self.rate, self.pitch, self.engine_options)

    def process(self, data: Any) -> Any:
        if isinstance(data, RuntimeData) and data.kind in ("event", "control"):
            return data
        if not isinstance(data, str):
            found = data.kind if isinstance(data, RuntimeData) else type(data).__name__
            raise TypeError(f"{self.name}: TextToSpeech takes text, received {found}")
        if self._synthesizer is None:
            self.initialize()
        return self._chunks(data)

    def interrupt(self) -> None:
        """Barge-in: the text being synthesized now stops, and what it held back is
        dropped. Safe from another thread while `process`'s generator runs (the node
        runner calls it from its request reader); later texts synthesize as usual."""
        self._generation += 1
        if self._synthesizer is not None:
            self._synthesizer.interrupt()

    def cleanup(self) -> None:
        if self._synthesizer is not None:
            self._synthesizer.close()
            self._synthesizer = None

    def _chunks(self, text: str) -> Iterator[RuntimeData]:
        synthesizer = self._synthesizer
        assert synthesizer is not None
        size = self.sample_rate * self.chunk_ms // 1000
        held = array("f")
        generation = self._generation
        for piece in text_pieces(text, self.max_piece_chars):
            if generation != self._generation:
                return
            resampler = (
                StreamResampler(synthesizer.sample_rate, self.sample_rate)
                if synthesizer.sample_rate != self.sample_rate else None
            )
            for pcm in synthesizer.synthesize(piece):
                if generation != self._generation:
                    return  # interrupted: what is held is dropped
                samples = pcm16_to_float(pcm)
                held.extend(resampler.push(samples) if resampler else samples)
                while len(held) >= size and generation == self._generation:
                    yield self._chunk(held[:size])
                    del held[:size]
            if resampler is not None:
                held.extend(resampler.push(array("f"), final=True))
        if generation != self._generation:
            return
        while len(held) >= size:
            yield self._chunk(held[:size])
            del held[:size]
        if held:
            yield self._chunk(held)

    def _chunk(self, samples: array) -> RuntimeData:
        out = RuntimeData.audio(array("f", samples), self.sample_rate, 1, self._samples_out * 1e6 / self.sample_rate)
        self._samples_out += len(samples)
        return out
