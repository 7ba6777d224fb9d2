"""The served model: a verified bundle's ONNX file in onnxruntime, and V2 tensors checked against
the bundle's manifest before they reach it.

Only the model file named by the manifest is loaded; the bundle's runner code never runs here.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from studio.core.bundle.folder import Manifest, read_manifest, verify_bundle
from studio.core.errors import BadInput, StudioError
from studio.core.model.loader import Dim, TensorInfo
from studio.core.model.ort_errors import explain_ort_error, is_ort_error, plain_ort_errors

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


class RequestError(StudioError):
    """A request the client got wrong; answered with this status and the one-line message."""

    def __init__(self, what: str, status: int = 400) -> None:
        super().__init__(what)
        self.status = status


def v2_shape(shape: list[Dim]) -> list[int]:
    return [d if isinstance(d, int) else -1 for d in shape]


def _tensor_meta(info: TensorInfo) -> dict[str, Any]:
    return {
        "name": info.name,
        "datatype": V2_DATATYPES.get(info.dtype, info.dtype.upper()),
        "shape": v2_shape(info.shape),
    }


def verified_manifest(bundle: Path) -> Manifest:
    """The bundle's manifest, once every file matched it."""
    result = verify_bundle(bundle)
    if not result.ok:
        raise BadInput(
            f"{bundle} does not match its manifest ({'; '.join(result.problems()[:3])})",
            "Rebuild or re-copy the bundle; `studio verify` lists every problem",
        )
    return read_manifest(bundle)


def is_llm(manifest: Manifest) -> bool:
    return bool((manifest.reports.get("llm") or {}).get("kind") == "llm")


class ServedModel:
    """One bundle's model, loaded once; ``infer`` is safe to call from several threads."""

    def __init__(self, bundle: Path, manifest: Manifest) -> None:
        self.manifest = manifest
        self.name = self.manifest.model.name
        self.inputs = {t.name: t for t in self.manifest.inputs}
        self.outputs = {t.name: t for t in self.manifest.outputs}
        self.entry = bundle / manifest.entry
        self.session = _open_session(self.entry)

    def metadata(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "versions": ["1"],
            "platform": "onnxruntime_onnx",
            "inputs": [_tensor_meta(t) for t in self.manifest.inputs],
            "outputs": [_tensor_meta(t) for t in self.manifest.outputs],
        }

    def infer(self, request: Any) -> dict[str, Any]:
        """A V2 inference request (parsed JSON) in, a V2 response out; RequestError if bad."""
        if not isinstance(request, dict) or not isinstance(request.get("inputs"), list):
            raise RequestError("The request must be a JSON object with an 'inputs' list")
        feeds = self._feeds(request["inputs"])
        wanted = self._wanted_outputs(request.get("outputs"))
        try:
            values = self.session.run(wanted, feeds)
        except Exception as exc:  # the model failed on these values: the client's to fix
            if not is_ort_error(exc):
                raise
            raise RequestError(explain_ort_error(exc, self.entry, feeds).what) from exc
        response: dict[str, Any] = {"model_name": self.name, "model_version": "1"}
        if isinstance(request.get("id"), str):
            response["id"] = request["id"]
        response["outputs"] = [
            _encode(name, value) for name, value in zip(wanted, values, strict=True)
        ]
        return response

    def _feeds(self, tensors: list[Any]) -> dict[str, np.ndarray]:
        feeds: dict[str, np.ndarray] = {}
        for tensor in tensors:
            if not isinstance(tensor, dict) or not isinstance(tensor.get("name"), str):
                raise RequestError("Each input must be an object with a 'name'")
            name = tensor["name"]
            if name not in self.inputs:
                raise RequestError(f"Unknown input '{name}'; the model takes {self._names()}")
            if name in feeds:
                raise RequestError(f"Input '{name}' is given twice")
            feeds[name] = _decode(tensor, self.inputs[name])
        missing = [n for n in self.inputs if n not in feeds]
        if missing:
            raise RequestError(f"Missing input '{missing[0]}'; the model takes {self._names()}")
        return feeds

    def _wanted_outputs(self, requested: Any) -> list[str]:
        if requested is None:
            return list(self.outputs)
        if not isinstance(requested, list):
            raise RequestError("'outputs' must be a list of objects with a 'name'")
        names = [o.get("name") if isinstance(o, dict) else None for o in requested]
        for name in names:
            if name not in self.outputs:
                raise RequestError(f"Unknown output '{name}'; the model gives {list(self.outputs)}")
        return [str(n) for n in names]

    def _names(self) -> str:
        return ", ".join(f"'{n}'" for n in self.inputs)


def _open_session(path: Path) -> Any:  # onnxruntime.InferenceSession
    import onnxruntime as ort

    # Requests run side by side in their own threads: one onnxruntime thread each, and no
    # spinning between runs (spinning threads took the CPU the HTTP side needs: half the req/s).
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    with plain_ort_errors(path):
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _check_shape(raw: Any, info: TensorInfo) -> list[int]:
    if not isinstance(raw, list) or not all(type(d) is int and d >= 0 for d in raw):
        raise RequestError(f"Input '{info.name}': 'shape' must be a list of whole numbers ≥ 0")
    fixed = [d if isinstance(d, int) else None for d in info.shape]
    if len(raw) != len(fixed) or any(
        f is not None and f != d for f, d in zip(fixed, raw, strict=False)
    ):
        want = "×".join("?" if f is None else str(f) for f in fixed)
        got = "×".join(map(str, raw)) or "scalar"
        raise RequestError(f"Input '{info.name}' has shape {got}; the model takes {want}")
    return raw


def _decode(tensor: dict[str, Any], info: TensorInfo) -> np.ndarray:
    shape = _check_shape(tensor.get("shape"), info)
    want = V2_DATATYPES.get(info.dtype)
    if want is None:
        raise RequestError(f"Input '{info.name}' is {info.dtype}, which V2 JSON cannot carry")
    if tensor.get("datatype") != want:
        got = tensor.get("datatype")
        raise RequestError(f"Input '{info.name}' has datatype {got}; the model takes {want}")
    dtype = np.dtype(info.dtype)
    try:
        values = np.asarray(tensor.get("data"))
    except ValueError as exc:  # ragged nesting
        raise RequestError(f"Input '{info.name}': 'data' is not a regular array") from exc
    if values.size and values.dtype.kind not in _ACCEPTS.get(dtype.kind, ""):
        raise RequestError(f"Input '{info.name}': 'data' must hold {want} numbers")
    if values.size != math.prod(shape):
        raise RequestError(
            f"Input '{info.name}' has {values.size} values; shape {shape} needs {math.prod(shape)}"
        )
    if dtype.kind in "iu" and values.size and not _fits(values, dtype):
        raise RequestError(f"Input '{info.name}': a value is out of range for {want}")
    return values.astype(dtype, copy=False).reshape(shape)


def _fits(values: np.ndarray, dtype: np.dtype[Any]) -> bool:
    limits = np.iinfo(dtype)
    return bool(values.min() >= limits.min and values.max() <= limits.max)


def _encode(name: str, value: Any) -> dict[str, Any]:
    array = np.asarray(value)
    return {
        "name": name,
        "datatype": V2_DATATYPES.get(array.dtype.name, array.dtype.name.upper()),
        "shape": list(array.shape),
        "data": array.ravel().tolist(),
    }
