"""PocketSphinx (Debian's python3-pocketsphinx with pocketsphinx-en-us) as a
recognition engine: a JSGF grammar for commands, the general language model
for dictation. The model is read from the package's directory; nothing is fetched."""

from __future__ import annotations

import os
from typing import Optional

from .engines import Recognizer, SpeechEngineError, Transcript, Word
from .grammar import GrammarError, parse_jsgf

MODEL_DIR = "/usr/share/pocketsphinx/model/en-us"
FRAME_RATE = 100  # PocketSphinx's default -frate: one frame per 10 ms


def _decoder_class():
    try:
        from pocketsphinx.pocketsphinx import Decoder  # Debian's python3-pocketsphinx
    except ImportError as error:
        raise SpeechEngineError(
            "engine 'pocketsphinx' is not installed on this host: apt-get install python3-pocketsphinx "
            f"pocketsphinx-en-us (scripts/setup.sh --test does), then use /usr/bin/python3 ({error})"
        ) from None
    return Decoder


class PocketSphinxRecognizer(Recognizer):
    sample_rate = 16000

    def __init__(
        self, grammar: Optional[str] = None, model_dir: str = MODEL_DIR, dictionary: Optional[str] = None,
        language_model: Optional[str] = None,
    ) -> None:
        Decoder = _decoder_class()
        hmm = os.path.join(model_dir, "en-us")
        dictionary = dictionary or os.path.join(model_dir, "cmudict-en-us.dict")
        for path, what in ((hmm, "acoustic model"), (dictionary, "dictionary")):
            if not os.path.exists(path):
                raise SpeechEngineError(f"pocketsphinx: no {what} at {path} (apt-get install pocketsphinx-en-us)")
        config = Decoder.default_config()
        config.set_string("-hmm", hmm)
        config.set_string("-dict", dictionary)
        config.set_string("-logfn", os.devnull)  # its log would flood the node's stderr
        if grammar is None:
            config.set_string("-lm", language_model or os.path.join(model_dir, "en-us.lm.bin"))
        self._decoder = Decoder(config)
        if grammar is not None:
            checked = parse_jsgf(grammar)  # GrammarError names the line
            for word, line in checked.words:
                if self._decoder.lookup_word(word.lower()) is None:
                    raise GrammarError(line, f"the word {word!r} is not in the pronunciation dictionary ({dictionary})")
            try:
                self._decoder.set_jsgf_string("grammar", checked.text)
                self._decoder.set_search("grammar")
            except RuntimeError as error:
                raise GrammarError(1, f"pocketsphinx refused the grammar ({error})") from None
        self._in_utterance = False

    def start(self) -> None:
        # A fresh stream each utterance: word frames then count from its start, and
        # the voice activity detector forgets the last utterance's tail.
        self._decoder.start_stream()
        self._decoder.start_utt()
        self._in_utterance = True

    def accept(self, pcm16: bytes) -> None:
        self._decoder.process_raw(pcm16, False, False)

    def partial(self) -> Optional[str]:
        hyp = self._decoder.hyp()
        return hyp.hypstr if hyp is not None and hyp.hypstr else None

    def in_speech(self) -> bool:
        return bool(self._decoder.get_in_speech())

    def finish(self) -> Transcript:
        if not self._in_utterance:
            return Transcript("")
        self._decoder.end_utt()
        self._in_utterance = False
        hyp = self._decoder.hyp()
        if hyp is None or not hyp.hypstr:
            return Transcript("")
        words = []
        for seg in self._decoder.seg():
            word = seg.word
            if word.startswith("<") or word.startswith("[") or word.startswith("++"):
                continue  # <s>, </s>, <sil>, [NOISE], ++FILLER++
            if word.endswith(")") and "(" in word:
                word = word[: word.index("(")]  # an alternative pronunciation: "on(2)"
            words.append(Word(word, seg.start_frame / FRAME_RATE, (seg.end_frame + 1) / FRAME_RATE))
        return Transcript(hyp.hypstr, words)

    def close(self) -> None:
        if self._in_utterance:
            self._decoder.end_utt()
            self._in_utterance = False
