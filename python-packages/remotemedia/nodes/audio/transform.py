"""AudioTransform, the original SDK's node: audio to output_sample_rate and
output_channels (its defaults, 44.1 kHz stereo). Here it is the channel mix of
FormatConvert then Resample, in Python and in the manifest (two nodes there)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from ...core.node import Node
from .format_convert import ChannelMix
from .resample import DEFAULT_QUALITY, Resample


class AudioTransform(Node):
    def __init__(self, name: Optional[str] = None, output_sample_rate: int = 44100, output_channels: int = 2,
                 quality: str = DEFAULT_QUALITY, **config: Any) -> None:
        super().__init__(name, output_sample_rate=output_sample_rate, output_channels=output_channels,
                         quality=quality, **config)
        self.output_sample_rate, self.output_channels = output_sample_rate, output_channels
        self._mix = ChannelMix(f"{self.name}.mix", channels=output_channels)
        self._resample = Resample(f"{self.name}.resample", target_rate=output_sample_rate, quality=quality)

    def manifest_nodes(self) -> List[Dict[str, Any]]:
        return [
            {"id": self._mix.name, "node_type": self._mix.node_type, "params": self._mix.params()},
            {"id": self._resample.name, "node_type": self._resample.node_type, "params": self._resample.params()},
        ]

    def process(self, data: Any) -> Any:
        return self._resample.process(self._mix.process(data))

    def flush(self) -> Any:
        return self._resample.flush()
