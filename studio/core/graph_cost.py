"""What each node of a model costs: FLOPs, bytes moved, and the shapes behind them.

Shapes come from ONNX shape inference after the user's fixed sizes are applied; dims that stay
unknown are set to the same default the profiler feeds (1), and that choice is reported.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import onnx
from onnx import shape_inference
from pydantic import BaseModel, Field, PrivateAttr

from studio.core.calibration import DEFAULT_DYNAMIC_DIM
from studio.core.errors import BadInput
from studio.core.graph_flops import (  # noqa: F401  (re-exported: fix_shapes, check use them)
    CONTROL_FLOW,
    ELEMENTWISE_COST,
    FREE_OPS,
    _attr,
    _dims,
    _dtype_name,
    _main_dtype,
    _node_bytes,
    _node_flops,
    _Tensors,
)
from studio.core.graph_qdq import (
    _dq_weights,
    _fold_constant_casts,
    _fused_qdq,
    _pointwise,
    _quantized_dtype,
)
from studio.core.model import graph_inputs, load_model, resolve_model_path

DATA_OPS = {
    "Transpose",
    "Concat",
    "Gather",
    "GatherElements",
    "GatherND",
    "Slice",
    "Split",
    "Pad",
    "Resize",
    "Upsample",
    "Tile",
    "Expand",
    "DepthToSpace",
    "SpaceToDepth",
    "ScatterND",
    "ScatterElements",
    "Cast",
}


def op_class(node: onnx.NodeProto) -> str:
    """The family an op's speed behaves like; efficiency factors are kept per family."""
    op = node.op_type
    if op in ("MatMul", "Gemm", "FusedMatMul", "MatMulInteger", "QLinearMatMul", "MatMulNBits"):
        return "matmul"
    if op in ("Conv", "QLinearConv", "ConvInteger", "ConvTranspose"):
        group = int(_attr(node, "group", 1) or 1)
        return "dwconv" if group > 1 else "conv"
    if op in ("MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "LpPool"):
        return "pool"
    if op in ("Softmax", "LogSoftmax"):
        return "softmax"
    if "Norm" in op:
        return "norm"
    if op.startswith("Reduce") or op in ("ArgMax", "ArgMin"):
        return "reduce"
    if op in FREE_OPS:
        return "free"
    if op in CONTROL_FLOW:
        return "control"
    if op in DATA_OPS:
        return "data"
    if op in ("QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear"):
        return "quant"
    if op in ELEMENTWISE_COST:
        return "transcendental"
    return "elementwise"


class NodeCost(BaseModel):
    name: str
    op_type: str
    op_class: str = "elementwise"
    domain: str = ""
    flops: float
    bytes: float
    weight_bytes: float
    dtype: str
    known: bool = True
    fused: bool = Field(False, description="a Q/DQ node onnxruntime folds into an integer kernel")
    dq_weights: bool = Field(
        False, description="a float op whose weights come from DequantizeLinear each run"
    )
    pointwise: bool = Field(False, description="a 1×1 convolution (a different kernel than k×k)")


class DynamicDim(BaseModel):
    input: str
    axis: int
    name: str
    assumed: int = DEFAULT_DYNAMIC_DIM


class GraphCost(BaseModel):
    # Bytes of every tensor with a known size (not serialized): lets a runtime plan cost the
    # nodes onnxruntime inserts (layout reorders, casts) from the tensors they convert.
    _tensor_bytes: dict[str, float] = PrivateAttr(default_factory=dict)
    nodes: list[NodeCost]
    dynamic: list[DynamicDim]
    control_flow: list[str]
    dtypes: dict[str, int]
    weight_bytes: float
    peak_activation_bytes: float
    input_shapes: dict[str, list[int]]
    kv_inputs: dict[str, list[int | str | None]]
    parameter_count: int

    @property
    def total_flops(self) -> float:
        return sum(n.flops for n in self.nodes)

    @property
    def tensor_bytes(self) -> dict[str, float]:
        return self._tensor_bytes


def apply_shapes(model: onnx.ModelProto, shapes: dict[str, list[int]]) -> onnx.ModelProto:
    """Set the named inputs to fixed sizes; a name or rank the model does not have is BadInput."""
    inputs = {v.name: v for v in graph_inputs(model)}
    for name, dims in shapes.items():
        if name not in inputs:
            known = ", ".join(inputs) or "(none)"
            raise BadInput(f"The model has no input named '{name}'", f"Inputs are: {known}")
        value = inputs[name]
        current = _dims(value)
        if current and len(current) != len(dims):
            raise BadInput(
                f"Input '{name}' has {len(current)} dimensions, the size given has {len(dims)}",
                f"Give {len(current)} sizes, e.g. {name}={_example(current)}",
            )
        for axis, (old, new) in enumerate(zip(current, dims, strict=False)):
            if isinstance(old, int) and old != new:
                raise BadInput(
                    f"Input '{name}' has a fixed size {old} on axis {axis}, not {new}",
                    "Only the flexible (named or unknown) sizes can be set",
                )
        shape = value.type.tensor_type.shape
        shape.ClearField("dim")
        for d in dims:
            shape.dim.add().dim_value = int(d)
    return model


def _example(dims: list[int | str | None]) -> str:
    return "x".join(str(d) if isinstance(d, int) else "1" for d in dims)


def infer(model: onnx.ModelProto) -> onnx.ModelProto:
    """Shape inference from scratch: stale intermediate shapes from the exporter are dropped."""
    del model.graph.value_info[:]
    try:
        return shape_inference.infer_shapes(
            model, check_type=False, strict_mode=False, data_prop=True
        )
    except Exception as exc:  # onnx raises InferenceError and others for inconsistent graphs
        raise BadInput(
            f"Shape inference failed with these sizes ({str(exc).splitlines()[0][:200]})",
            "Check the sizes match what the model expects",
        ) from exc


def _fill_defaults(model: onnx.ModelProto) -> tuple[list[DynamicDim], dict[str, list[int]]]:
    dynamic: list[DynamicDim] = []
    shapes: dict[str, list[int]] = {}
    for value in graph_inputs(model):
        dims = _dims(value)
        fixed = []
        for axis, d in enumerate(dims):
            if isinstance(d, int):
                fixed.append(d)
            else:
                dynamic.append(DynamicDim(input=value.name, axis=axis, name=str(d or "?")))
                fixed.append(DEFAULT_DYNAMIC_DIM)
        shapes[value.name] = fixed
    return dynamic, shapes


COMPUTE_CLASSES = {
    "matmul",
    "conv",
    "dwconv",
    "pool",
    "norm",
    "softmax",
    "elementwise",
    "transcendental",
    "reduce",
}


def _peak_activations(model: onnx.ModelProto, t: _Tensors) -> float:
    """Largest sum of live intermediate tensors while nodes run in file (topological) order."""
    last_use: dict[str, int] = {}
    for index, node in enumerate(model.graph.node):
        for name in node.input:
            last_use[name] = index
    outputs = {o.name for o in model.graph.output}
    live: dict[str, float] = {v.name: t.nbytes(v.name) or 0.0 for v in graph_inputs(model)}
    peak = sum(live.values())
    for index, node in enumerate(model.graph.node):
        for name in node.output:
            if name and name not in t.initializers:
                live[name] = t.nbytes(name) or 0.0
        peak = max(peak, sum(live.values()))
        for name in list(live):
            if last_use.get(name, -1) <= index and name not in outputs:
                del live[name]
    return peak


def _kv_inputs(model: onnx.ModelProto) -> dict[str, list[int | str | None]]:
    """Inputs carrying a past key/value cache (LLM exports name them past_key_values.*)."""
    found = {}
    for value in graph_inputs(model):
        lower = value.name.lower()
        if (
            lower.startswith("past")
            or "past_key" in lower
            or "past_value" in lower
            or "cache" in lower
        ):
            found[value.name] = _dims(value)
    return found


def load_for_cost(model: str | Path | onnx.ModelProto) -> onnx.ModelProto:
    if isinstance(model, onnx.ModelProto):
        return model
    path = resolve_model_path(model)
    try:
        return load_model(path, with_weights=False)
    except BadInput as exc:
        # onnx's checker rejects some graphs onnxruntime runs fine (e.g. onnxruntime-genai
        # exports with contrib ops); the cost model only needs the graph, so read it as is.
        if "damaged or not a valid" not in exc.what:
            raise
        return onnx.load(str(path), load_external_data=False)


def graph_cost(
    model: str | Path | onnx.ModelProto, shapes: dict[str, list[int]] | None = None
) -> GraphCost:
    """Per-node cost of ``model`` with ``shapes`` fixed and other flexible sizes set to 1."""
    proto = onnx.ModelProto()
    proto.CopyFrom(load_for_cost(model))
    _fold_constant_casts(proto)
    kv = _kv_inputs(proto)
    apply_shapes(proto, shapes or {})
    dynamic, filled = _fill_defaults(proto)
    apply_shapes(proto, {k: v for k, v in filled.items() if k not in (shapes or {})})
    inferred = infer(proto)
    t = _Tensors(inferred)
    nodes = []
    control = []
    dtypes: Counter[str] = Counter()
    producers = {out: node for node in inferred.graph.node for out in node.output}
    graph_io = {v.name for v in inferred.graph.input} | {v.name for v in inferred.graph.output}
    fanout: Counter[str] = Counter(i for node in inferred.graph.node for i in node.input)
    for index, node in enumerate(inferred.graph.node):
        if node.op_type in CONTROL_FLOW:
            control.append(node.name or f"{node.op_type}_{index}")
        flops = _node_flops(node, t)
        moved, weights, known = _node_bytes(node, t)
        dtype = _main_dtype(node, t)
        quantized = _quantized_dtype(node, producers, t, fanout)
        if quantized:
            dtype = quantized
        if op_class(node) in COMPUTE_CLASSES:
            dtypes[dtype] += 1
        nodes.append(
            NodeCost(
                name=node.name or f"{node.op_type}_{index}",
                op_type=node.op_type,
                op_class=op_class(node),
                domain=node.domain,
                flops=flops or 0.0,
                bytes=moved,
                weight_bytes=weights,
                dtype=dtype,
                fused=_fused_qdq(node, graph_io, fanout),
                dq_weights=_dq_weights(node, producers) and not quantized,
                pointwise=_pointwise(node, t),
                known=known and flops is not None,
            )
        )
    weight_bytes = sum(t.nbytes(i.name) or 0.0 for i in inferred.graph.initializer)
    params = sum(int(np.prod(i.dims)) if i.dims else 1 for i in inferred.graph.initializer)
    result = GraphCost(
        nodes=[n for n in nodes if n.op_type != "Constant"],
        dynamic=[d for d in dynamic if not (shapes and d.input in shapes)],
        control_flow=control,
        dtypes=dict(dtypes),
        weight_bytes=weight_bytes,
        peak_activation_bytes=_peak_activations(inferred, t),
        input_shapes={**filled, **(shapes or {})},
        kv_inputs=kv,
        parameter_count=params,
    )
    for name in t.shape:
        size = t.nbytes(name)
        if size is not None:
            result._tensor_bytes[name] = size
    return result
