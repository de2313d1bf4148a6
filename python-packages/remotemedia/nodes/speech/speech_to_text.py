"""SpeechToText: 16 kHz mono audio in, `text` out (stamped with the utterance's
start), each followed by a `transcript` event carrying its start and end times
and its words; `partial_transcript` events while it listens, when asked. An
utterance with no words (silence, noise, empty audio) gives no text, only a
`transcript` event whose text is empty."""

from __future__ import annotations

from typing import Any, Dict, Iterator, List, Optional, Sequence

from ...core.node import Node
from ...data import RuntimeData
from .engines import Recognizer, Transcript, create_recognizer
from .grammar import keywords_grammar, parse_jsgf
from .pcm import float_to_pcm16

ENDPOINTING = ("input", "silence")
PIECE_S = 0.1  # audio is fed to the engine in pieces this long (partials come between them)
IDLE_RESTART_S = 10.0  # a silent utterance is restarted after this long, so memory stays bounded


class SpeechToText(Node):
    """Recognises speech with a pluggable engine (PocketSphinx ships).

    grammar: a JSGF grammar (the accurate mode for commands); keywords: a list of
    phrases, which becomes one; neither: dictation with the engine's language model.
    endpointing "input": each audio item is one utterance (SileroVAD's segments, a
    file); "silence": a continuous stream that the engine's own voice activity
    detector cuts into utterances. partials: emit `partial_transcript` events."""

    def __init__(
        self, name: Optional[str] = None, engine: str = "pocketsphinx", grammar: Optional[str] = None,
        keywords: Optional[Sequence[str]] = None, endpointing: str = "input", partials: bool = False,
        transcript_events: bool = True, engine_options: Optional[Dict[str, Any]] = None, **config: Any,
    ) -> None:
        if grammar is not None and keywords is not None:
            raise ValueError("SpeechToText: give grammar or keywords, not both")
        if endpointing not in ENDPOINTING:
            raise ValueError(f"SpeechToText: endpointing must be one of {', '.join(ENDPOINTING)}, found {endpointing!r}")
        if engine_options is not None and not isinstance(engine_options, dict):
            raise ValueError(f"SpeechToText: engine_options must be a dict, found {engine_options!r}")
        if grammar is not None:
            parse_jsgf(grammar)  # GrammarError naming the line, before any engine loads
        self.grammar = keywords_grammar(keywords) if keywords is not None else grammar
        given = {"grammar": grammar, "keywords": list(keywords) if keywords is not None else None,
                 "engine_options": engine_options}
        super().__init__(
            name, engine=engine, endpointing=endpointing, partials=bool(partials),
            transcript_events=bool(transcript_events), **{k: v for k, v in given.items() if v is not None}, **config,
        )
        self.engine, self.endpointing = engine, endpointing
        self.partials, self.transcript_events = bool(partials), bool(transcript_events)
        self.engine_options = dict(engine_options or {})
        self._recognizer: Optional[Recognizer] = None
        self._clock_s = 0.0  # stream time of the next sample
        self._utterance_s = 0.0  # stream time where the open utterance began (endpointing "silence")
        self._open = False
        self._heard = False
        self._last_partial: Optional[str] = None

    @property
    def mode(self) -> str:
        return "grammar" if self.grammar is not None else "dictation"

    def initialize(self) -> None:
        self._recognizer = create_recognizer(self.engine, self.grammar, self.engine_options)

    def process(self, data: Any) -> Any:
        if isinstance(data, RuntimeData) and data.kind in ("event", "control"):
            return data  # speech_start / speech_end and the like pass by
        recognizer = self._recognizer_now()
        audio = self._checked_audio(data, recognizer.sample_rate)
        if audio.timestamp_us is not None:
            self._clock_s = audio.timestamp_us / 1e6
        # A generator: several outputs (a list would be one json value); the host drains it.
        if self.endpointing == "input":
            return self._utterance(recognizer, audio)
        return self._stream(recognizer, audio)

    def flush(self) -> Any:
        if self.endpointing == "silence" and self._open and self._recognizer is not None:
            self._open = False
            heard, self._heard = self._heard, False
            transcript = self._recognizer.finish()
            if heard or transcript.text:
                return self._final(transcript, self._utterance_s, self._clock_s)
        return None

    def cleanup(self) -> None:
        if self._recognizer is not None:
            self._recognizer.close()
            self._recognizer = None

    # -- one utterance per input ------------------------------------------------------

    def _utterance(self, recognizer: Recognizer, audio: RuntimeData) -> Iterator[RuntimeData]:
        start_s = self._clock_s
        recognizer.start()
        self._last_partial = None
        for piece, _ in self._pieces(audio, recognizer.sample_rate):
            recognizer.accept(piece)
            yield from self._partial(recognizer)
        transcript = recognizer.finish()
        yield from self._final(transcript, start_s, self._clock_s)

    # -- a continuous stream, cut at silences -------------------------------------------

    def _stream(self, recognizer: Recognizer, audio: RuntimeData) -> Iterator[RuntimeData]:
        for piece, piece_start in self._pieces(audio, recognizer.sample_rate):
            if not self._open:
                recognizer.start()
                self._open, self._heard, self._last_partial = True, False, None
                self._utterance_s = piece_start
            recognizer.accept(piece)
            speaking = recognizer.in_speech()
            self._heard = self._heard or speaking
            yield from self._partial(recognizer)
            if self._heard and not speaking:
                self._open = self._heard = False
                yield from self._final(recognizer.finish(), self._utterance_s, self._clock_s)
            elif not self._heard and self._clock_s - self._utterance_s > IDLE_RESTART_S:
                recognizer.finish()  # only silence so far: start afresh
                self._open = False

    # -- shared ---------------------------------------------------------------------

    def _pieces(self, audio: RuntimeData, rate: int) -> Iterator["tuple[bytes, float]"]:
        samples = audio.samples
        step = int(rate * PIECE_S)
        for at in range(0, len(samples), step):
            piece = samples[at : at + step]
            start = self._clock_s
            self._clock_s += len(piece) / rate
            yield float_to_pcm16(piece), start

    def _partial(self, recognizer: Recognizer) -> Iterator[RuntimeData]:
        if not self.partials:
            return
        text = recognizer.partial()
        if text and text != self._last_partial:
            self._last_partial = text
            yield RuntimeData.event("partial_transcript", round(self._clock_s * 1e6), {"text": text})

    def _final(self, transcript: Transcript, start_s: float, end_s: float) -> Iterator[RuntimeData]:
        words = [
            {"word": w.text, "start_us": round((start_s + w.start_s) * 1e6), "end_us": round((start_s + w.end_s) * 1e6)}
            for w in transcript.words
        ]
        begin = words[0]["start_us"] if words else round(start_s * 1e6)
        end = words[-1]["end_us"] if words else round(end_s * 1e6)
        # Text only when words were heard (a Resample's flushed tail, a cough: no text);
        # the transcript event still says the utterance was heard as nothing.
        if transcript.text:
            yield RuntimeData.text_data(transcript.text, begin)
        if self.transcript_events:
            payload = {"text": transcript.text, "start_us": begin, "end_us": end, "words": words, "mode": self.mode}
            yield RuntimeData.event("transcript", begin, payload)

    def _recognizer_now(self) -> Recognizer:
        if self._recognizer is None:  # a node used without a pipeline's initialize
            self.initialize()
        return self._recognizer  # type: ignore[return-value]

    def _checked_audio(self, data: Any, rate: int) -> RuntimeData:
        if not (isinstance(data, RuntimeData) and data.kind == "audio"):
            found = data.kind if isinstance(data, RuntimeData) else type(data).__name__
            raise TypeError(f"{self.name}: SpeechToText takes audio, received {found}")
        if data.sample_rate != rate or data.channels != 1:
            raise ValueError(
                f"{self.name}: SpeechToText needs {rate} Hz mono audio, received {data.sample_rate} Hz with "
                f"{data.channels} channel(s); put a Resample (target_rate {rate}) and a mono mix before it"
            )
        return data
