"""Open an ONNX model the user pointed at and describe it in plain terms."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from studio.core.errors import BadInput
from studio.core.model.precision import Precision, model_precision

if TYPE_CHECKING:
    import onnx

# onnx and numpy load on first use: the GUI imports this module for its summaries and units, and
# must open its window before paying for them.

Dim = int | str | None

# Operator domains onnxruntime implements; a node in any other is a custom op it cannot run.
RUNTIME_DOMAINS = frozenset({"", "ai.onnx", "ai.onnx.ml", "com.microsoft", "com.ms.internal.nhwc"})


def refuse_custom_ops(nodes: Iterable[Any], fix: str) -> None:
    """BadInput naming the first of ``nodes`` (NodeProto or NodeCost) onnxruntime cannot run."""
    for node in nodes:
        if node.domain not in RUNTIME_DOMAINS:
            raise BadInput(
                f"Node '{node.name or node.op_type}' is a custom op "
                f"({node.domain}::{node.op_type}) that onnxruntime cannot run here",
                fix,
            )


class TensorInfo(BaseModel):
    name: str
    dtype: str
    shape: list[Dim]

    def shape_text(self) -> str:
        return "×".join("?" if d is None else str(d) for d in self.shape) or "scalar"


class ModelSummary(BaseModel):
    name: str
    path: str
    file_size: int
    opset: int
    ir_version: int
    producer: str
    inputs: list[TensorInfo]
    outputs: list[TensorInfo]
    parameter_count: int
    node_count: int
    op_histogram: dict[str, int]
    precision: Precision


def resolve_model_path(path: str | Path) -> Path:
    """Turn what the user picked (an .onnx file or a folder holding one) into the .onnx path."""
    path = Path(path).expanduser()
    if not path.exists():
        raise BadInput(
            f"{path} does not exist", "Check the path for typos, or choose the file again"
        )
    if path.is_dir():
        candidates = sorted(p for p in path.rglob("*.onnx") if p.is_file())
        if not candidates:
            raise BadInput(
                f"The folder {path} holds no .onnx model",
                "Pick a folder that contains a .onnx file, or the .onnx file itself",
            )
        preferred = [p for p in candidates if p.name == "model.onnx"]
        return (preferred or candidates)[0]
    return path


def load_model(
    path: str | Path, *, with_weights: bool = True, check: bool = True
) -> onnx.ModelProto:
    """Load and sanity-check an ONNX file, turning every failure into one plain sentence.

    ``check=False`` skips onnx's full checker (it parses the file once more); a caller that does
    so runs ``check_model_file`` itself when later work fails (see ``blame_damaged_source``)."""
    import onnx
    from google.protobuf.message import DecodeError

    path = resolve_model_path(path)
    if path.stat().st_size == 0:
        raise BadInput(f"{path.name} is empty (0 bytes)", "Download or export the model again")
    try:
        model = onnx.load(str(path), load_external_data=with_weights)
    except DecodeError as exc:
        raise BadInput(
            f"{path.name} is not a valid ONNX model (truncated or not ONNX: {exc})",
            "Download or export the model again; check the copy finished",
        ) from exc
    except FileNotFoundError as exc:
        raise BadInput(
            f"{path.name} refers to external weight data that is missing ({exc.filename})",
            "Keep the .onnx file together with its .data files",
        ) from exc
    except Exception as exc:  # onnx raises a variety of errors for non-ONNX bytes
        raise BadInput(
            f"{path.name} could not be read as ONNX ({type(exc).__name__}: {exc})",
            "Pick an .onnx file",
        ) from exc
    if model.ir_version <= 0 or len(model.graph.node) == 0:
        raise BadInput(
            f"{path.name} is not an ONNX model (no graph inside)",
            "Pick an .onnx file exported from your framework",
        )
    if check:
        check_model_file(path, model if with_weights else None)
    return model


def check_model_file(path: Path, model: onnx.ModelProto | None = None) -> None:
    """Run onnx's full checker on ``path`` (or on ``model``, its loaded form with weights)."""
    import onnx

    try:
        # The checker takes a model over 2 GB (external weights) only by its path; the path
        # form also checks that every external data file is there.
        onnx.checker.check_model(str(path) if model is None or _over_2gb(model) else model)
    except Exception as exc:
        if "No Op registered for" in str(exc):
            # onnx's checker knows only onnx's own ops; onnxruntime's contrib ops (e.g.
            # SimplifiedLayerNormalization in the default domain) are valid to the runtime,
            # which rejects what it cannot run when a session opens.
            return
        raise BadInput(
            f"{path.name} is damaged or not a valid ONNX model ({str(exc).splitlines()[0]})",
            "Download or export the model again",
        ) from exc


@contextlib.contextmanager
def blame_damaged_source(path: Path) -> Iterator[None]:
    """Around work on a model loaded with ``check=False``: if the work fails in any way, run the
    checker on the model, so a damaged file is reported as such rather than as whatever broke on
    it (an opset upgrade, a quantizer, a result that does not pass the checker)."""
    try:
        yield
    except Exception as exc:
        try:
            check_model_file(path)
        except BadInput as damaged:
            raise damaged from exc
        raise


def proto_size(model: onnx.ModelProto) -> int:
    """The model's serialised size in bytes. Protobuf refuses to even measure a message over
    2 GB (EncodeError), so that case is reported as 2 GB: every caller only asks "too big?"."""
    # Measuring the whole message serialises it first: for a large model that is a multi-GB
    # spike of memory, or an EncodeError over 2 GB. The weights alone tell "too big" cheaply.
    weights: int = sum(init.ByteSize() for init in model.graph.initializer)
    if weights >= 2**31:
        return weights
    try:
        return int(model.ByteSize())
    except Exception:
        return 2**31


def _over_2gb(model: onnx.ModelProto) -> bool:
    """Protobuf cannot serialise a message this large, which the in-memory checker needs."""
    return proto_size(model) >= 2**31


def _tensor_info(value: onnx.ValueInfoProto) -> TensorInfo:
    import numpy as np
    import onnx

    tensor_type = value.type.tensor_type
    dims: list[Dim] = []
    for dim in tensor_type.shape.dim:
        if dim.HasField("dim_value"):
            dims.append(int(dim.dim_value))
        elif dim.HasField("dim_param"):
            dims.append(dim.dim_param)
        else:
            dims.append(None)
    dtype = (
        onnx.helper.tensor_dtype_to_np_dtype(tensor_type.elem_type)
        if tensor_type.elem_type
        else None
    )
    return TensorInfo(
        name=value.name, dtype=str(np.dtype(dtype)) if dtype else "unknown", shape=dims
    )


def graph_inputs(model: onnx.ModelProto) -> list[onnx.ValueInfoProto]:
    """Real inputs: graph inputs that are not also initializers (old exporters list both)."""
    initializers = {init.name for init in model.graph.initializer}
    return [inp for inp in model.graph.input if inp.name not in initializers]


def model_file_size(path: Path, graph: onnx.ModelProto | None = None) -> int:
    """Size of the .onnx file plus any external-data files it references.

    ``graph``: this file already loaded *without* its weights (loading the weights clears the
    references), which saves parsing the file again."""
    import onnx

    total = path.stat().st_size
    model = graph if graph is not None else onnx.load(str(path), load_external_data=False)
    seen: set[str] = set()
    for init in model.graph.initializer:
        for entry in init.external_data:
            if entry.key == "location" and entry.value not in seen:
                seen.add(entry.value)
                data = path.parent / entry.value
                if data.exists():
                    total += data.stat().st_size
    return total


def opset_of(model: onnx.ModelProto) -> int:
    for entry in model.opset_import:
        if entry.domain in ("", "ai.onnx"):
            return int(entry.version)
    return 0


def parameter_count(model: onnx.ModelProto) -> int:
    import numpy as np

    count = 0
    for init in model.graph.initializer:
        count += int(np.prod(init.dims)) if init.dims else 1
    for node in model.graph.node:
        if node.op_type == "Constant":
            for attr in node.attribute:
                if attr.name == "value" and attr.t.dims:
                    count += int(np.prod(attr.t.dims))
    return count


def summarize(path: str | Path) -> ModelSummary:
    path = resolve_model_path(path)
    model = load_model(path, with_weights=False)
    histogram = Counter(node.op_type for node in model.graph.node)
    return ModelSummary(
        name=path.stem,
        path=str(path),
        file_size=model_file_size(path, model),
        opset=opset_of(model),
        ir_version=model.ir_version,
        producer=" ".join(p for p in (model.producer_name, model.producer_version) if p),
        inputs=[_tensor_info(v) for v in graph_inputs(model)],
        outputs=[_tensor_info(v) for v in model.graph.output],
        parameter_count=parameter_count(model),
        node_count=len(model.graph.node),
        op_histogram=dict(histogram.most_common()),
        precision=model_precision(model),
    )


def all_nodes(graph: onnx.GraphProto) -> list[onnx.NodeProto]:
    """Nodes of a graph and of every If/Loop/Scan body inside it."""
    nodes = []
    for node in graph.node:
        nodes.append(node)
        for attr in node.attribute:
            if attr.HasField("g"):
                nodes += all_nodes(attr.g)
            for sub in attr.graphs:
                nodes += all_nodes(sub)
    return nodes
