"""The built-in audio node types as Python classes, named as the runtime names them
(web/core/nodes/builtin-nodes.ts): on the runtime path a pipeline of them is a
manifest of those node types with these params; on the pure-Python path they run
here (with numpy when it is importable, in plain Python when not), giving the same
samples to float32 rounding. AudioSource and AudioTransform are the original SDK's;
SileroVAD runs only on the runtime (NoPythonImplementation here); LogMel needs numpy
(NumpyRequired without it)."""

from ...core.errors import NoPythonImplementation, NumpyRequired
from ._support import use_numpy
from .accumulator import Accumulator
from .energy_vad import EnergyVAD
from .format_convert import ChannelMix, FormatConvert, convert_channels, pcm16_mime_type
from .gain import Gain
from .rebuffer import Rebuffer
from .resample import PolyphaseFilter, Resample, StreamingResampler
from .log_mel import LogMel
from .runtime_only import RuntimeOnlyNode, SileroVAD
from .source import AudioSource
from .transform import AudioTransform
from .wav import audio_chunks, read_wav, write_wav

__all__ = [
    "Accumulator", "AudioSource", "AudioTransform", "ChannelMix", "EnergyVAD", "FormatConvert", "Gain", "LogMel",
    "NoPythonImplementation", "NumpyRequired", "PolyphaseFilter", "Rebuffer", "Resample", "RuntimeOnlyNode",
    "SileroVAD", "StreamingResampler", "audio_chunks", "convert_channels", "pcm16_mime_type", "read_wav",
    "use_numpy", "write_wav",
]
