"""RuntimeData: the one data type that flows between nodes, mirroring web/core's
RuntimeData. A frozen dataclass per kind keeps it cheap and explicit; audio samples
and tensor data stay as memoryviews (or numpy arrays when given), never lists."""

from __future__ import annotations

from typing import Any, Optional, Union

KINDS = ("audio", "text", "json", "binary", "tensor", "video", "control", "event")
TENSOR_DTYPES = {
    "float32": "f",
    "float64": "d",
    "int8": "b",
    "uint8": "B",
    "int16": "h",
    "uint16": "H",
    "int32": "i",
    "uint32": "I",
    "int64": "q",
    "uint64": "Q",
}
PIXEL_FORMATS = ("rgba8", "rgb8", "gray8", "i420", "nv12")
U32_MAX = 0xFFFF_FFFF


def pixel_bytes(format: str, width: int, height: int) -> int:
    """Bytes a width x height frame of `format` holds (web/core/runtime-data.ts's PIXEL_FORMATS)."""
    if format == "rgba8":
        return width * height * 4
    if format == "rgb8":
        return width * height * 3
    if format == "gray8":
        return width * height
    # i420 and nv12: a full-size luma plane, two chroma planes at half size (rounded up).
    return width * height + 2 * ((width + 1) // 2) * ((height + 1) // 2)
CONTROL_SIGNALS = ("end_of_stream", "flush", "interrupt")


class InvalidData(ValueError):
    """Data that is not valid RuntimeData; says which field and what would be valid."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path


_FIELDS = (
    "kind", "timestamp_us", "samples", "sample_rate", "channels", "text", "value", "data",
    "mime_type", "dtype", "shape", "width", "height", "format", "signal", "name", "payload",
)


class RuntimeData:
    """One item of a stream. Use the constructors (RuntimeData.audio(...), ...).

    A plain class with __slots__ rather than a dataclass: items are made per audio
    block, and in Pyodide every attribute set costs."""

    __slots__ = _FIELDS

    def __init__(
        self, kind: str, timestamp_us: Optional[float] = None, *, samples: Any = None,
        sample_rate: Optional[int] = None, channels: Optional[int] = None, text: Optional[str] = None,
        value: Any = None, data: Any = None, mime_type: Optional[str] = None, dtype: Optional[str] = None,
        shape: tuple = (), width: Optional[int] = None, height: Optional[int] = None,
        format: Optional[str] = None, signal: Optional[str] = None, name: Optional[str] = None,
        payload: Any = None,
    ) -> None:
        self.kind = kind
        self.timestamp_us = timestamp_us
        self.samples = samples  # audio: memoryview of format 'f' (interleaved)
        self.sample_rate = sample_rate
        self.channels = channels
        self.text = text
        self.value = value  # json
        self.data = data  # binary/video: bytes; tensor: memoryview of its dtype
        self.mime_type = mime_type
        self.dtype = dtype
        self.shape = shape
        self.width = width
        self.height = height
        self.format = format
        self.signal = signal
        self.name = name
        self.payload = payload

    def __repr__(self) -> str:
        shown = ", ".join(f"{f}={getattr(self, f)!r}" for f in _FIELDS if getattr(self, f) not in (None, ()))
        return f"RuntimeData({shown})"

    @staticmethod
    def audio(samples: Any, sample_rate: int, channels: int = 1, timestamp_us: Optional[float] = None) -> "RuntimeData":
        view = _float32_view(samples)
        # The same bounds as the runtime's RuntimeData (and the frame's u32 / u16 fields).
        if not isinstance(sample_rate, int) or not 1 <= sample_rate <= U32_MAX:
            raise InvalidData("sample_rate", f"must be an integer from 1 to {U32_MAX} Hz, found {sample_rate!r}")
        if not isinstance(channels, int) or not 1 <= channels <= 0xFFFF:
            raise InvalidData("channels", f"must be an integer from 1 to 65535, found {channels!r}")
        if len(view) % channels:
            raise InvalidData("samples", f"{len(view)} samples do not divide into {channels} channels")
        return RuntimeData("audio", timestamp_us, samples=view, sample_rate=sample_rate, channels=channels)

    @staticmethod
    def text_data(text: str, timestamp_us: Optional[float] = None) -> "RuntimeData":
        if not isinstance(text, str):
            raise InvalidData("text", f"must be a str, found {type(text).__name__}")
        return RuntimeData("text", timestamp_us, text=text)

    @staticmethod
    def json(value: Any, timestamp_us: Optional[float] = None) -> "RuntimeData":
        return RuntimeData("json", timestamp_us, value=value)

    @staticmethod
    def binary(data: Union[bytes, bytearray, memoryview], mime_type: Optional[str] = None) -> "RuntimeData":
        return RuntimeData("binary", data=bytes(data), mime_type=mime_type)

    @staticmethod
    def tensor(data: Any, dtype: str, shape: tuple, timestamp_us: Optional[float] = None) -> "RuntimeData":
        if dtype not in TENSOR_DTYPES:
            raise InvalidData("dtype", f"must be one of {', '.join(TENSOR_DTYPES)}, found {dtype!r}")
        view = memoryview(data).cast("B").cast(TENSOR_DTYPES[dtype])
        count = 1
        for dim in shape:
            count *= dim
        if count != len(view):
            raise InvalidData("shape", f"{tuple(shape)} holds {count} elements, data has {len(view)}")
        return RuntimeData("tensor", timestamp_us, data=view, dtype=dtype, shape=tuple(shape))

    @staticmethod
    def video(data: bytes, width: int, height: int, format: str, timestamp_us: Optional[float] = None) -> "RuntimeData":
        if format not in PIXEL_FORMATS:
            raise InvalidData("format", f"must be one of {', '.join(PIXEL_FORMATS)}, found {format!r}")
        for path, value in (("width", width), ("height", height)):
            if not isinstance(value, int) or not 1 <= value <= U32_MAX:
                raise InvalidData(path, f"must be an integer from 1 to {U32_MAX}, found {value!r}")
        data = bytes(data)
        if len(data) != pixel_bytes(format, width, height):
            raise InvalidData(
                "data", f"{format} {width}x{height} needs {pixel_bytes(format, width, height)} bytes, found {len(data)}"
            )
        return RuntimeData("video", timestamp_us, data=data, width=width, height=height, format=format)

    @staticmethod
    def control(signal: str) -> "RuntimeData":
        if signal not in CONTROL_SIGNALS:
            raise InvalidData("signal", f"must be one of {', '.join(CONTROL_SIGNALS)}, found {signal!r}")
        return RuntimeData("control", signal=signal)

    @staticmethod
    def event(name: str, timestamp_us: Optional[float] = None, payload: Any = None) -> "RuntimeData":
        if not isinstance(name, str) or not name:
            raise InvalidData("name", f"must be a non-empty str, found {name!r}")
        return RuntimeData("event", timestamp_us, name=name, payload=payload)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RuntimeData):
            return NotImplemented
        return _comparable(self) == _comparable(other)

    __hash__ = None  # mutable views inside: not hashable


def _comparable(d: RuntimeData) -> tuple:
    def norm(v: Any) -> Any:
        return v.tolist() if isinstance(v, memoryview) else v

    return tuple(norm(getattr(d, f)) for f in _FIELDS)


def _float32_view(samples: Any) -> memoryview:
    """array('f'), memoryview, bytes of float32, or a float32 numpy array, without copying."""
    tolist = getattr(samples, "dtype", None)
    if tolist is not None and str(samples.dtype) != "float32":
        raise InvalidData("samples", f"audio must be float32, found a {samples.dtype} array")
    view = memoryview(samples)
    if view.format == "f":
        return view
    if view.format in ("B", "b", "c") or view.itemsize == 1:
        if view.nbytes % 4:
            raise InvalidData("samples", f"{view.nbytes} bytes is not a whole number of float32 samples")
        return view.cast("B").cast("f")
    raise InvalidData("samples", f"audio must be float32 (format 'f'), found format {view.format!r}")
