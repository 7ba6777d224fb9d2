"""What each node of a model costs: FLOPs, bytes moved, and the shapes behind them.

Shapes come from ONNX shape inference after the user's fixed sizes are applied; dims that stay
unknown get the sizes the profiler feeds (samples/sizes.py chooses them), and that choice is
reported.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import onnx
from pydantic import BaseModel, Field, PrivateAttr

from studio.core.chips.flops import (  # noqa: F401  (re-exported: fix_shapes, check use them)
    CONTROL_FLOW,
    ELEMENTWISE_COST,
    FREE_OPS,
    Tensors,
    attr_value,
    dtype_name,
    main_dtype,
    node_bytes,
    node_flops,
)
from studio.core.chips.qdq import (
    dq_weights,
    fold_constant_casts,
    fused_qdq,
    pointwise,
    quantized_dtype,
)
from studio.core.chips.subgraphs import body_costs, int_constants
from studio.core.model.loader import graph_inputs, load_model, resolve_model_path
from studio.core.model.shapes import apply_shapes, infer, value_dims
from studio.core.samples.sizes import InputSizes, choose_sizes

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
    if op in ("LSTM", "GRU", "RNN"):
        return "matmul"  # small matmuls, one per step: the same family as far as speed goes
    if op in ("Conv", "QLinearConv", "ConvInteger", "ConvTranspose"):
        group = int(attr_value(node, "group", 1) or 1)
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
    inside: str = Field("", description="the If/Loop/Scan whose body holds it (its work scaled)")


class DynamicDim(BaseModel):
    input: str
    axis: int
    name: str
    assumed: int = 1
    source: str = ""  # why that size (see samples/sizes.py)


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
    shape_source: str = ""
    measured_at: str = ""  # "measured at 1×3×640×640": the sizes the costs are for
    kv_inputs: dict[str, list[int | str | None]]
    parameter_count: int
    assumptions: list[str] = []
    """What was assumed about control flow (a Loop whose trip count is not known)."""

    @property
    def total_flops(self) -> float:
        return sum(n.flops for n in self.nodes)

    @property
    def tensor_bytes(self) -> dict[str, float]:
        return self._tensor_bytes


def _fill_defaults(
    model: onnx.ModelProto, sizes: InputSizes
) -> tuple[list[DynamicDim], dict[str, list[int]]]:
    dynamic: list[DynamicDim] = []
    shapes: dict[str, list[int]] = {}
    for value in graph_inputs(model):
        dims = value_dims(value)
        fixed = []
        for axis, (d, choice) in enumerate(zip(dims, sizes.inputs[value.name], strict=True)):
            if isinstance(d, int):
                fixed.append(d)
            else:
                dynamic.append(
                    DynamicDim(
                        input=value.name,
                        axis=axis,
                        name=str(d or "?"),
                        assumed=choice.size,
                        source=choice.source,
                    )
                )
                fixed.append(choice.size)
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


def _peak_activations(model: onnx.ModelProto, t: Tensors) -> float:
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
            found[value.name] = value_dims(value)
    return found


def load_for_cost(model: str | Path | onnx.ModelProto) -> onnx.ModelProto:
    if isinstance(model, onnx.ModelProto):
        return model
    # The same loader and checks as info, compress and profile: a model they refuse (weights
    # outside its folder, an input of unknown rank) must not get a verdict here.
    return load_model(resolve_model_path(model), with_weights=False)


def _cost_nodes(
    graph: onnx.GraphProto,
    t: Tensors,
    prefix: str,
    constants: dict[str, int],
    assumptions: list[str],
) -> list[NodeCost]:
    """Each node's cost, followed by the work of any If/Loop/Scan body it runs (subgraphs.py)."""
    producers = {out: node for node in graph.node for out in node.output}
    graph_io = {v.name for v in graph.input} | {v.name for v in graph.output}
    fanout: Counter[str] = Counter(i for node in graph.node for i in node.input)

    def nested(body: onnx.GraphProto, inner: Tensors, inner_prefix: str) -> list[NodeCost]:
        return _cost_nodes(body, inner, prefix + inner_prefix, constants, assumptions)

    nodes = []
    for index, node in enumerate(graph.node):
        flops = node_flops(node, t)
        moved, weights, known = node_bytes(node, t)
        quantized = quantized_dtype(node, producers, t, fanout)
        nodes.append(
            NodeCost(
                name=prefix + (node.name or f"{node.op_type}_{index}"),
                op_type=node.op_type,
                op_class=op_class(node),
                domain=node.domain,
                flops=flops or 0.0,
                bytes=moved,
                weight_bytes=weights,
                dtype=quantized or main_dtype(node, t),
                fused=fused_qdq(node, graph_io, fanout),
                dq_weights=dq_weights(node, producers) and not quantized,
                pointwise=pointwise(node, t),
                known=known and flops is not None,
                inside=prefix.rstrip("/"),
            )
        )
        if node.op_type in CONTROL_FLOW:
            body, assumption = body_costs(node, t, constants, nested)
            nodes += body
            if assumption:
                assumptions.append(assumption)
    return nodes


def graph_cost(
    model: str | Path | onnx.ModelProto, shapes: dict[str, list[int]] | None = None
) -> GraphCost:
    """Per-node cost of ``model`` with ``shapes`` fixed and other flexible sizes chosen as the
    profiler and compress choose them (samples/sizes.py)."""
    proto = onnx.ModelProto()
    proto.CopyFrom(load_for_cost(model))
    fold_constant_casts(proto)
    kv = _kv_inputs(proto)
    sizes = choose_sizes(proto, shapes)
    apply_shapes(proto, shapes or {})
    dynamic, filled = _fill_defaults(proto, sizes)
    apply_shapes(proto, {k: v for k, v in filled.items() if k not in (shapes or {})})
    inferred = infer(proto)
    t = Tensors(inferred)
    control = [
        n.name or f"{n.op_type}_{i}"
        for i, n in enumerate(inferred.graph.node)
        if n.op_type in CONTROL_FLOW
    ]
    assumptions: list[str] = []
    nodes = _cost_nodes(inferred.graph, t, "", int_constants(inferred.graph), assumptions)
    dtypes: Counter[str] = Counter(n.dtype for n in nodes if n.op_class in COMPUTE_CLASSES)
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
        shape_source=sizes.source_text(),
        measured_at=sizes.text(),
        kv_inputs=kv,
        parameter_count=params,
        assumptions=assumptions,
    )
    for name in t.shape:
        size = t.nbytes(name)
        if size is not None:
            result._tensor_bytes[name] = size
    return result
