"""The original SDK's speech node names, mapped honestly onto the engines that ship
here. No Whisper or Bark weights reach this project (no package carries them), so:

- WhisperNode(model="tiny.en") is SpeechToText on PocketSphinx (its en-us model);
- TTSNode(model="bark") is TextToSpeech on espeak-ng.

The model asked for is accepted and kept (`.model`), and each node says, once, in
the log (logger "remotemedia.nodes") and in `.engine_note`, which engine really
runs. In a manifest they are the SpeechToText / TextToSpeech node types (the
model is not a param there); sent to a gateway as objects they travel with it."""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional

from .speech import SpeechToText, TextToSpeech

log = logging.getLogger("remotemedia.nodes")


def _manifest_entry(node: Any, node_type: str) -> List[Dict[str, Any]]:
    params = {k: v for k, v in node.params().items() if k != "model"}
    return [{"id": node.name, "node_type": node_type, "params": params}]


class WhisperNode(SpeechToText):
    """Recognition under the original's name: PocketSphinx does the work. Dictation
    (no grammar) is what the original's Whisper did; PocketSphinx's general model
    gets many words wrong there; give `grammar` or `keywords` for commands."""

    def __init__(self, model: str = "tiny.en", name: Optional[str] = None, **speech: Any) -> None:
        super().__init__(name, model=model, **speech)
        self.model = model
        self.engine_note = (
            f"{self.name}: WhisperNode(model={model!r}) runs on the {self.engine} engine (en-us model): no Whisper "
            "weights ship with RemoteMedia Web; register a Whisper engine (remotemedia.nodes.speech."
            "register_recognizer) and pass engine= to use one"
        )
        log.warning(self.engine_note)

    @property
    def node_type(self) -> str:
        return "SpeechToText"

    def manifest_nodes(self) -> List[Dict[str, Any]]:
        return _manifest_entry(self, "SpeechToText")


class TTSNode(TextToSpeech):
    """Synthesis under the original's name: espeak-ng does the work."""

    def __init__(self, model: str = "bark", name: Optional[str] = None, **speech: Any) -> None:
        super().__init__(name, model=model, **speech)
        self.model = model
        self.engine_note = (
            f"{self.name}: TTSNode(model={model!r}) runs on the {self.engine} engine: no {model} weights ship with "
            "RemoteMedia Web; register another synthesizer (remotemedia.nodes.speech.register_synthesizer) and pass "
            "engine= to use one"
        )
        log.warning(self.engine_note)

    @property
    def node_type(self) -> str:
        return "TextToSpeech"

    def manifest_nodes(self) -> List[Dict[str, Any]]:
        return _manifest_entry(self, "TextToSpeech")
