"""Python values <-> RuntimeData, as the original SDK's FFI marshalled them.

None/bool/int/float/str/list/dict travel as json (NaN and Infinity become null);
str as text when asked; bytes as binary; array('f'), float32 memoryviews and
float32 numpy arrays as audio (with sample_rate and channels); other numeric
arrays as tensors with dtype and shape. No per-sample Python loops anywhere."""

from __future__ import annotations

from array import array
from typing import Any, Optional

from .data import TENSOR_DTYPES, InvalidData, RuntimeData

_FORMAT_DTYPES = {fmt: name for name, fmt in TENSOR_DTYPES.items()}
_FORMAT_DTYPES.update({"l": "int64", "L": "uint64"} if array("l").itemsize == 8 else {"l": "int32", "L": "uint32"})


def to_runtime_data(value: Any, *, text: bool = False, sample_rate: Optional[int] = None, channels: int = 1) -> RuntimeData:
    if isinstance(value, RuntimeData):
        return value
    if isinstance(value, str) and text:
        return RuntimeData.text_data(value)
    if isinstance(value, (bytes, bytearray)):
        return RuntimeData.binary(value)
    if hasattr(value, "dtype") and hasattr(value, "shape"):  # numpy, without importing it
        dtype = str(value.dtype)
        if dtype == "float32" and sample_rate is not None:
            return RuntimeData.audio(value.reshape(-1).data if value.ndim > 1 else value, sample_rate, channels)
        if dtype not in TENSOR_DTYPES:
            raise InvalidData("value", f"numpy dtype {dtype} has no tensor dtype; use one of {', '.join(TENSOR_DTYPES)}")
        contiguous = value if value.flags["C_CONTIGUOUS"] else value.copy()
        return RuntimeData.tensor(contiguous.data, dtype, tuple(value.shape))
    if isinstance(value, (array, memoryview)):
        view = memoryview(value)
        if view.format == "f" and (sample_rate is not None or isinstance(value, array)):
            if sample_rate is None:
                raise InvalidData("sample_rate", "audio (array('f')) needs sample_rate=...")
            return RuntimeData.audio(view, sample_rate, channels)
        dtype = _FORMAT_DTYPES.get(view.format)
        if dtype is None:
            raise InvalidData("value", f"array format {view.format!r} has no tensor dtype")
        return RuntimeData.tensor(view, dtype, view.shape or (len(view),))
    return RuntimeData.json(value)


def from_runtime_data(data: RuntimeData) -> Any:
    """The Python value a node or caller sees: json -> the value, text -> str,
    binary -> bytes; audio, tensors, video, events and control stay RuntimeData."""
    if data.kind == "json":
        return data.value
    if data.kind == "text":
        return data.text
    if data.kind == "binary":
        return data.data
    return data
