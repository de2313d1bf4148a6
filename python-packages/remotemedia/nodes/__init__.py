"""Built-in nodes, as the original SDK exported them: `from remotemedia.nodes import
PassThroughNode, CalculatorNode`, the audio node types (remotemedia.nodes.audio),
the speech nodes (remotemedia.nodes.speech) and the original's speech names
WhisperNode / TTSNode (remotemedia.nodes.original: which engines really run)."""

from .audio import (
    Accumulator,
    AudioSource,
    AudioTransform,
    ChannelMix,
    EnergyVAD,
    FormatConvert,
    Gain,
    LogMel,
    Rebuffer,
    Resample,
    SileroVAD,
)
from .base import CalculatorNode, PassThroughNode
from .original import TTSNode, WhisperNode
from .speech import SpeechToText, TextToSpeech

__all__ = [
    "Accumulator", "AudioSource", "AudioTransform", "CalculatorNode", "ChannelMix", "EnergyVAD", "FormatConvert",
    "Gain", "LogMel", "PassThroughNode", "Rebuffer", "Resample", "SileroVAD", "SpeechToText", "TTSNode",
    "TextToSpeech", "WhisperNode",
]
