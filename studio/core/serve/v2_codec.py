"""Open Inference Protocol (V2) JSON tensors in and out, checked against the model's declared inputs.

One codec for both servers: `studio serve` on this PC imports it, and serving on a device pushes
this file beside device_server.py, so it needs only the standard library and numpy (Python 3.8+,
no studio imports). Errors are ``V2Error`` with the HTTP status to answer.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np

# Open Inference Protocol datatypes by numpy dtype name (BYTES is not served: no string models).
V2_DATATYPES: dict[str, str] = {
    "bool": "BOOL",
    "uint8": "UINT8",
    "uint16": "UINT16",
    "uint32": "UINT32",
    "uint64": "UINT64",
    "int8": "INT8",
    "int16": "INT16",
    "int32": "INT32",
    "int64": "INT64",
    "float16": "FP16",
    "float32": "FP32",
    "float64": "FP64",
}
# Which JSON value kinds (numpy dtype kinds) each target kind accepts: 1.5 is no INT64.
_ACCEPTS = {"b": "b", "u": "bui", "i": "bui", "f": "buif"}


class V2Error(Exception):
    """A request the client got wrong: one line, answered with ``status``."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class Tensor(Protocol):
    """A declared input or output (the manifest's TensorInfo, or the device's plain copy)."""

    @property
    def name(self) -> str: ...
    @property
    def dtype(self) -> str: ...
    @property
    def shape(self) -> Sequence[int | str | None]: ...


def v2_shape(shape: Sequence[int | str | None]) -> list[int]:
    return [d if isinstance(d, int) else -1 for d in shape]


def tensor_meta(info: Tensor) -> dict[str, Any]:
    return {
        "name": info.name,
        "datatype": V2_DATATYPES.get(info.dtype, info.dtype.upper()),
        "shape": v2_shape(info.shape),
    }


def metadata(name: str, inputs: Sequence[Tensor], outputs: Sequence[Tensor]) -> dict[str, Any]:
    return {
        "name": name,
        "versions": ["1"],
        "platform": "onnxruntime_onnx",
        "inputs": [tensor_meta(t) for t in inputs],
        "outputs": [tensor_meta(t) for t in outputs],
    }


def feeds(request: Any, inputs: Mapping[str, Tensor]) -> dict[str, np.ndarray]:
    """The onnxruntime feeds of a parsed V2 request, every input checked."""
    if not isinstance(request, dict) or not isinstance(request.get("inputs"), list):
        raise V2Error("The request must be a JSON object with an 'inputs' list")
    names = ", ".join(f"'{n}'" for n in inputs)
    result: dict[str, np.ndarray] = {}
    for tensor in request["inputs"]:
        if not isinstance(tensor, dict) or not isinstance(tensor.get("name"), str):
            raise V2Error("Each input must be an object with a 'name'")
        name = tensor["name"]
        if name not in inputs:
            raise V2Error(f"Unknown input '{name}'; the model takes {names}")
        if name in result:
            raise V2Error(f"Input '{name}' is given twice")
        result[name] = decode(tensor, inputs[name])
    missing = [n for n in inputs if n not in result]
    if missing:
        raise V2Error(f"Missing input '{missing[0]}'; the model takes {names}")
    return result


def wanted_outputs(request: dict[str, Any], outputs: Mapping[str, Tensor]) -> list[str]:
    requested = request.get("outputs")
    if requested is None:
        return list(outputs)
    if not isinstance(requested, list):
        raise V2Error("'outputs' must be a list of objects with a 'name'")
    names = [o.get("name") if isinstance(o, dict) else None for o in requested]
    for name in names:
        if name not in outputs:
            raise V2Error(f"Unknown output '{name}'; the model gives {list(outputs)}")
    return [str(n) for n in names]


def response(
    model: str, request: dict[str, Any], names: list[str], values: Sequence[Any]
) -> dict[str, Any]:
    answer: dict[str, Any] = {"model_name": model, "model_version": "1"}
    if isinstance(request.get("id"), str):
        answer["id"] = request["id"]
    pairs = zip(names, values)  # noqa: B905 (devices may run Python 3.8, which has no strict=)
    answer["outputs"] = [encode(name, value) for name, value in pairs]
    return answer


def check_shape(raw: Any, info: Tensor) -> list[int]:
    if not isinstance(raw, list) or not all(type(d) is int and d >= 0 for d in raw):
        raise V2Error(f"Input '{info.name}': 'shape' must be a list of whole numbers ≥ 0")
    fixed = [d if isinstance(d, int) else None for d in info.shape]
    pairs = zip(fixed, raw)  # noqa: B905 (lengths compared first; Python 3.8 has no strict=)
    if len(raw) != len(fixed) or any(f is not None and f != d for f, d in pairs):
        want = "×".join("?" if f is None else str(f) for f in fixed)
        got = "×".join(map(str, raw)) or "scalar"
        raise V2Error(f"Input '{info.name}' has shape {got}; the model takes {want}")
    return raw


def decode(tensor: dict[str, Any], info: Tensor) -> np.ndarray:
    shape = check_shape(tensor.get("shape"), info)
    want = V2_DATATYPES.get(info.dtype)
    if want is None:
        raise V2Error(f"Input '{info.name}' is {info.dtype}, which V2 JSON cannot carry")
    if tensor.get("datatype") != want:
        got = tensor.get("datatype")
        raise V2Error(f"Input '{info.name}' has datatype {got}; the model takes {want}")
    dtype = np.dtype(info.dtype)
    try:
        values = np.asarray(tensor.get("data"))
    except ValueError as exc:  # ragged nesting
        raise V2Error(f"Input '{info.name}': 'data' is not a regular array") from exc
    if values.size and values.dtype.kind not in _ACCEPTS.get(dtype.kind, ""):
        raise V2Error(f"Input '{info.name}': 'data' must hold {want} numbers")
    if values.size != math.prod(shape):
        raise V2Error(
            f"Input '{info.name}' has {values.size} values; shape {shape} needs {math.prod(shape)}"
        )
    if dtype.kind in "iu" and values.size and not _fits(values, dtype):
        raise V2Error(f"Input '{info.name}': a value is out of range for {want}")
    return values.astype(dtype, copy=False).reshape(shape)


def _fits(values: np.ndarray, dtype: np.dtype[Any]) -> bool:
    limits = np.iinfo(dtype)
    return bool(values.min() >= limits.min and values.max() <= limits.max)


def encode(name: str, value: Any) -> dict[str, Any]:
    array = np.asarray(value)
    return {
        "name": name,
        "datatype": V2_DATATYPES.get(array.dtype.name, array.dtype.name.upper()),
        "shape": list(array.shape),
        "data": array.ravel().tolist(),
    }
