"""Open Inference Protocol (V2) tensors for one ONNX model: JSON in, checked numpy feeds, JSON out.

`studio serve` uses this module, and `studio export` copies it unchanged into every exported
project (as ``edge_v2.py``), so BentoML, MLServer, KServe and Ray Serve answer exactly as `studio
serve` does. It therefore needs only the standard library, numpy and onnxruntime.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

import numpy as np

try:
    from studio.core.errors import StudioError as _Base
except ImportError:  # an exported project runs without the studio installed
    _Base = Exception  # type: ignore[misc,assignment]

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


class RequestError(_Base):
    """A request the client got wrong; answered with this status and the one-line message."""

    def __init__(self, what: str, status: int = 400) -> None:
        super().__init__(what)
        self.status = status


class Spec(Protocol):
    """What the codec needs of a tensor description (the manifest's TensorInfo has it)."""

    @property
    def name(self) -> str: ...
    @property
    def dtype(self) -> str: ...
    @property
    def shape(self) -> Sequence[int | str | None]: ...


@dataclass(frozen=True)
class TensorSpec:
    name: str
    dtype: str
    shape: list[int | str | None]


def v2_shape(shape: Sequence[int | str | None]) -> list[int]:
    return [d if isinstance(d, int) else -1 for d in shape]


def tensor_meta(info: Spec) -> dict[str, Any]:
    datatype = V2_DATATYPES.get(info.dtype, info.dtype.upper())
    return {"name": info.name, "datatype": datatype, "shape": v2_shape(info.shape)}


class V2Model:
    """V2 requests checked against the model's inputs and outputs, answered by ``run``."""

    def __init__(self, name: str, inputs: Sequence[Spec], outputs: Sequence[Spec]) -> None:
        self.name = name
        self.inputs = {t.name: t for t in inputs}
        self.outputs = {t.name: t for t in outputs}

    def run(self, wanted: list[str], feeds: dict[str, np.ndarray]) -> list[Any]:
        raise NotImplementedError

    def metadata(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "versions": ["1"],
            "platform": "onnxruntime_onnx",
            "inputs": [tensor_meta(t) for t in self.inputs.values()],
            "outputs": [tensor_meta(t) for t in self.outputs.values()],
        }

    def infer(self, request: Any) -> dict[str, Any]:
        """A V2 inference request (parsed JSON) in, a V2 response out; RequestError if bad."""
        if not isinstance(request, dict) or not isinstance(request.get("inputs"), list):
            raise RequestError("The request must be a JSON object with an 'inputs' list")
        feeds = self._feeds(request["inputs"])
        wanted = self._wanted_outputs(request.get("outputs"))
        values = self.run(wanted, feeds)
        response: dict[str, Any] = {"model_name": self.name, "model_version": "1"}
        if isinstance(request.get("id"), str):
            response["id"] = request["id"]
        response["outputs"] = [encode(n, v) for n, v in zip(wanted, values, strict=True)]
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
            feeds[name] = decode(tensor, self.inputs[name])
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


def _check_shape(raw: Any, info: Spec) -> list[int]:
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


def decode(tensor: dict[str, Any], info: Spec) -> np.ndarray:
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


def encode(name: str, value: Any) -> dict[str, Any]:
    array = np.asarray(value)
    return {
        "name": name,
        "datatype": V2_DATATYPES.get(array.dtype.name, array.dtype.name.upper()),
        "shape": list(array.shape),
        "data": array.ravel().tolist(),
    }


class BundleModel(V2Model):
    """A studio bundle's model outside the studio: every file the manifest lists is re-hashed
    before the model loads, so a project never serves a bundle that changed after export."""

    def __init__(self, bundle: str | Path, threads: int = 1) -> None:
        import onnxruntime as ort

        folder = Path(bundle)
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        for entry in manifest["files"]:
            path = folder / _inside(entry["path"])
            if _sha256(path) != entry["sha256"]:
                raise RuntimeError(f"{path} does not match the bundle's manifest: re-export")
        specs = {k: [TensorSpec(**t) for t in manifest[k]] for k in ("inputs", "outputs")}
        super().__init__(manifest["model"]["name"], specs["inputs"], specs["outputs"])
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        entry_path = str(folder / _inside(manifest["entry"]))
        self.session = ort.InferenceSession(entry_path, options, providers=["CPUExecutionProvider"])

    def run(self, wanted: list[str], feeds: dict[str, np.ndarray]) -> list[Any]:
        try:
            return list(self.session.run(wanted, feeds))
        except Exception as exc:  # the model failed on these values: the client's to fix
            raise RequestError(str(exc).strip().splitlines()[-1][:300]) from exc


def _inside(path: str) -> PurePosixPath:
    rel = PurePosixPath(path)
    if rel.is_absolute() or ".." in rel.parts:
        raise RuntimeError(f"The bundle's manifest lists an unsafe path '{path}'")
    return rel


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
