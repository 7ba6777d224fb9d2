"""What each node of a model costs: FLOPs, bytes moved, and the shapes behind them.

Shapes come from ONNX shape inference after the user's fixed sizes are applied; dims that stay
unknown are set to the same default the profiler feeds (1), and that choice is reported.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, shape_inference
from pydantic import BaseModel, Field, PrivateAttr

from studio.core.calibration import DEFAULT_DYNAMIC_DIM
from studio.core.errors import BadInput
from studio.core.model import graph_inputs, load_model, resolve_model_path

CONTROL_FLOW = {"If", "Loop", "Scan"}
# Ops whose output is a view or metadata: onnxruntime moves no data for them.
FREE_OPS = {
    "Reshape",
    "Squeeze",
    "Unsqueeze",
    "Flatten",
    "Identity",
    "Shape",
    "Size",
    "Constant",
    "ConstantOfShape",
    "Dropout",
}
# Rough FLOPs per output element for element-wise math (transcendentals cost more than adds).
ELEMENTWISE_COST = {
    "Sigmoid": 4,
    "Tanh": 6,
    "Exp": 4,
    "Log": 4,
    "Erf": 6,
    "Gelu": 8,
    "HardSwish": 3,
    "HardSigmoid": 2,
    "Softplus": 5,
    "Sqrt": 2,
    "Pow": 4,
    "Div": 1,
    "Reciprocal": 1,
    "Clip": 1,
    "QuantizeLinear": 3,
    "DequantizeLinear": 2,
    "Mish": 10,
    "Swish": 5,
    "Silu": 5,
    "Elu": 4,
}


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
        group = int(_attr(node, "group", 1) or 1)  # type: ignore[arg-type]
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


def _dims(value: onnx.ValueInfoProto) -> list[int | str | None]:
    out: list[int | str | None] = []
    for d in value.type.tensor_type.shape.dim:
        if d.HasField("dim_value") and d.dim_value > 0:
            out.append(int(d.dim_value))
        elif d.HasField("dim_param") and d.dim_param:
            out.append(d.dim_param)
        else:
            out.append(None)
    return out


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


def _itemsize(elem_type: int) -> float:
    if elem_type in (onnx.TensorProto.INT4, onnx.TensorProto.UINT4):
        return 0.5
    try:
        return float(np.dtype(helper.tensor_dtype_to_np_dtype(elem_type)).itemsize)
    except (KeyError, TypeError, ValueError):
        return 4.0


def _dtype_name(elem_type: int) -> str:
    return onnx.TensorProto.DataType.Name(elem_type).lower() if elem_type else "unknown"


class _Tensors:
    """Shape, dtype and size of every named tensor after inference."""

    def __init__(self, model: onnx.ModelProto) -> None:
        self.shape: dict[str, list[int] | None] = {}
        self.elem: dict[str, int] = {}
        self.initializers = {i.name for i in model.graph.initializer}
        g = model.graph
        for value in list(g.input) + list(g.output) + list(g.value_info):
            dims = _dims(value)
            self.shape[value.name] = (
                [d for d in dims if isinstance(d, int)]
                if all(isinstance(d, int) for d in dims)
                and value.type.tensor_type.HasField("shape")
                else None
            )
            self.elem[value.name] = value.type.tensor_type.elem_type
        for init in g.initializer:
            self.shape[init.name] = list(init.dims)
            self.elem[init.name] = init.data_type
        for node in g.node:
            if node.op_type == "Constant":
                for attr in node.attribute:
                    if attr.name == "value":
                        self.shape[node.output[0]] = list(attr.t.dims)
                        self.elem[node.output[0]] = attr.t.data_type
                        self.initializers.add(node.output[0])

    def numel(self, name: str) -> int | None:
        shape = self.shape.get(name)
        return int(np.prod(shape)) if shape is not None else None

    def nbytes(self, name: str) -> float | None:
        n = self.numel(name)
        return None if n is None else n * _itemsize(self.elem.get(name, 1))


def _attr(node: onnx.NodeProto, name: str, default: object = None) -> object:
    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def _node_flops(node: onnx.NodeProto, t: _Tensors) -> float | None:
    op = node.op_type
    out = node.output[0] if node.output else ""
    out_n = t.numel(out)
    ins = [t.shape.get(i) if i else None for i in node.input]
    if op in ("Conv", "QLinearConv", "ConvInteger"):
        w = ins[3] if op == "QLinearConv" else ins[1]
        if out_n is None or w is None:
            return None
        group = int(_attr(node, "group", 1) or 1)  # type: ignore[arg-type]
        per_out = int(np.prod(w[1:]))  # (Cin/group) * kH * kW
        del group
        return 2.0 * out_n * per_out
    if op == "ConvTranspose":
        x, w = ins[0], ins[1]
        if x is None or w is None:
            return None
        return 2.0 * int(np.prod(x)) * int(np.prod(w[1:]))
    if op == "MatMulNBits":
        # A contrib op ONNX shape inference does not know: its K and N are attributes. Rows of
        # A default to 1 (one decode step) when the activation's shape is unknown.
        k, n = int(_attr(node, "K", 0) or 0), int(_attr(node, "N", 0) or 0)  # type: ignore[arg-type]
        a = ins[0]
        rows = int(np.prod(a[:-1])) if a else 1
        return 2.0 * rows * k * n if k and n else None
    if op in ("MatMul", "MatMulInteger", "QLinearMatMul", "FusedMatMul", "Gemm"):
        a = ins[0]
        if out_n is None or a is None or not a:
            return None
        k = a[-1]
        if op == "Gemm" and _attr(node, "transA", 0):
            k = a[0]
        return 2.0 * out_n * k
    if op in ("MaxPool", "AveragePool", "LpPool"):
        kernel = _attr(node, "kernel_shape", [1])
        return None if out_n is None else float(out_n * int(np.prod(kernel)))  # type: ignore[arg-type]
    if op in (
        "GlobalAveragePool",
        "GlobalMaxPool",
        "ReduceMean",
        "ReduceSum",
        "ReduceMax",
        "ReduceMin",
        "ReduceL2",
        "ReduceProd",
        "ArgMax",
        "ArgMin",
    ):
        n = t.numel(node.input[0])
        return None if n is None else float(n)
    if op in ("Softmax", "LogSoftmax"):
        return None if out_n is None else 5.0 * out_n
    if op in (
        "LayerNormalization",
        "SimplifiedLayerNormalization",
        "SkipLayerNormalization",
        "RMSNormalization",
        "InstanceNormalization",
        "GroupNormalization",
    ):
        return None if out_n is None else 8.0 * out_n
    if op == "BatchNormalization":
        return None if out_n is None else 2.0 * out_n
    if op in FREE_OPS or op in CONTROL_FLOW:
        return 0.0
    if out_n is None:
        return None
    return float(ELEMENTWISE_COST.get(op, 1 if _is_math(op) else 0)) * out_n


_MATH = {
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Relu",
    "LeakyRelu",
    "PRelu",
    "Max",
    "Min",
    "Neg",
    "Abs",
    "Sum",
    "Mean",
    "Where",
    "Equal",
    "Greater",
    "Less",
    "And",
    "Or",
    "Not",
    "Floor",
    "Ceil",
    "Round",
    "Sign",
    "Cast",
    "Mod",
    "BiasGelu",
    "FastGelu",
    "QuickGelu",
}


def _is_math(op: str) -> bool:
    return op in _MATH or op in ELEMENTWISE_COST


def _node_bytes(node: onnx.NodeProto, t: _Tensors) -> tuple[float, float, bool]:
    """(bytes moved, weight bytes read, all sizes known)."""
    if node.op_type in FREE_OPS:
        return 0.0, 0.0, True
    total = weights = 0.0
    known = True
    for name in list(node.input) + list(node.output):
        if not name:
            continue
        size = t.nbytes(name)
        if size is None:
            known = False
            continue
        total += size
        if name in t.initializers:
            weights += size
    return total, weights, known


def _main_dtype(node: onnx.NodeProto, t: _Tensors) -> str:
    for name in list(node.input)[:1] + list(node.output)[:1]:
        if name and t.elem.get(name):
            return _dtype_name(t.elem[name])
    return "unknown"


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


def _fused_qdq(node: onnx.NodeProto, graph_io: set[str], fanout: Counter[str]) -> bool:
    """Inside a QDQ graph onnxruntime fuses Q/DQ pairs into integer kernels; the Q of a model
    input, the DQ of a model output and a DQ shared by several consumers (measured here: the
    consumers then stay float) still run as their own ops."""
    if node.op_type == "QuantizeLinear":
        return node.input[0] not in graph_io
    if node.op_type == "DequantizeLinear":
        return node.output[0] not in graph_io and fanout[node.output[0]] <= 1
    return False


def _pointwise(node: onnx.NodeProto, t: _Tensors) -> bool:
    if node.op_type not in ("Conv", "QLinearConv", "ConvInteger"):
        return False
    kernel = _attr(node, "kernel_shape")
    if kernel is None:
        w = t.shape.get(node.input[3] if node.op_type == "QLinearConv" else node.input[1])
        kernel = w[2:] if w else None
    return bool(kernel) and all(int(k) == 1 for k in kernel)  # type: ignore[union-attr]


def _dq_weights(node: onnx.NodeProto, producers: dict[str, onnx.NodeProto]) -> bool:
    """A Conv/MatMul/Gemm whose weight input is produced by DequantizeLinear at run time."""
    if node.op_type not in ("Conv", "MatMul", "Gemm") or len(node.input) < 2:
        return False
    source = producers.get(node.input[1])
    return source is not None and source.op_type == "DequantizeLinear"


def _quantized_dtype(
    node: onnx.NodeProto, producers: dict[str, onnx.NodeProto], t: _Tensors, fanout: Counter[str]
) -> str | None:
    """The integer type a node really computes in when it sits in a quantized (QDQ) graph."""
    if node.op_type == "MatMulNBits":
        return "int4"
    if node.op_type in ("QuantizeLinear", "DequantizeLinear"):
        return None
    first = producers.get(node.input[0]) if node.input else None
    if first is not None and first.op_type == "DequantizeLinear" and fanout[node.input[0]] > 1:
        return None  # a shared activation DQ: onnxruntime leaves this op in float
    if node.op_type in ("Conv", "MatMul", "Gemm") and (
        first is None or first.op_type != "DequantizeLinear"
    ):
        return None  # float activations: only the weights are dequantized, the op stays float
    for name in node.input:
        source = producers.get(name)
        if source is not None and source.op_type == "DequantizeLinear" and source.input:
            elem = t.elem.get(source.input[0])
            if elem:
                return _dtype_name(elem)
    return None


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


def _fold_constant_casts(model: onnx.ModelProto) -> None:
    """Cast of a constant → the constant itself, as onnxruntime folds it before running.

    FP16 converters put a Cast on Resize's float32 scales; shape inference cannot see through it,
    so every size after the Resize (and the cost of those nodes) would stay unknown.
    """
    from onnx import numpy_helper

    consts: dict[str, onnx.TensorProto] = {
        i.name: i for i in model.graph.initializer if i.raw_data or i.float_data or i.int64_data
    }
    for node in model.graph.node:
        if node.op_type == "Constant":
            for attr in node.attribute:
                if attr.name == "value":
                    consts[node.output[0]] = attr.t
    for node in model.graph.node:
        if node.op_type != "Cast" or not node.input or node.input[0] not in consts:
            continue
        target = next((int(a.i) for a in node.attribute if a.name == "to"), 0)
        try:
            value = numpy_helper.to_array(consts[node.input[0]])
            cast = value.astype(helper.tensor_dtype_to_np_dtype(target))
        except (KeyError, TypeError, ValueError):
            continue
        folded = numpy_helper.from_array(cast, node.output[0])
        name, output = node.name, node.output[0]
        node.Clear()
        node.CopyFrom(helper.make_node("Constant", [], [output], name=name, value=folded))
        consts[output] = folded


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
