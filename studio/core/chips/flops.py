"""FLOPs and bytes of one ONNX node from the tensor sizes shape inference found.

Split from graph_cost: per-node formulas and the tensor table they read.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
from onnx import helper

from studio.core.model.shapes import value_dims

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


def _itemsize(elem_type: int) -> float:
    if elem_type in (onnx.TensorProto.INT4, onnx.TensorProto.UINT4):
        return 0.5
    try:
        return float(np.dtype(helper.tensor_dtype_to_np_dtype(elem_type)).itemsize)
    except (KeyError, TypeError, ValueError):
        return 4.0


def dtype_name(elem_type: int) -> str:
    return onnx.TensorProto.DataType.Name(elem_type).lower() if elem_type else "unknown"


class Tensors:
    """Shape, dtype and size of every named tensor after inference."""

    def __init__(self, model: onnx.ModelProto | None = None) -> None:
        self.shape: dict[str, list[int] | None] = {}
        self.elem: dict[str, int] = {}
        self.initializers: set[str] = set()
        if model is not None:
            self.add_graph(model.graph)

    def scoped(self, graph: onnx.GraphProto) -> Tensors:
        """The tensors an If/Loop/Scan body sees: its own, and the enclosing graph's."""
        inner = Tensors()
        inner.shape, inner.elem = dict(self.shape), dict(self.elem)
        inner.initializers = set(self.initializers)
        inner.add_graph(graph)
        return inner

    def add_graph(self, g: onnx.GraphProto) -> None:
        self.initializers |= {i.name for i in g.initializer}
        for value in list(g.input) + list(g.output) + list(g.value_info):
            dims = value_dims(value)
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


def attr_value(node: onnx.NodeProto, name: str, default: Any = None) -> Any:
    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def node_flops(node: onnx.NodeProto, t: Tensors) -> float | None:
    op = node.op_type
    out = node.output[0] if node.output else ""
    out_n = t.numel(out)
    ins = [t.shape.get(i) if i else None for i in node.input]
    if op in ("Conv", "QLinearConv", "ConvInteger"):
        w = ins[3] if op == "QLinearConv" else ins[1]
        if out_n is None or w is None:
            return None
        group = int(attr_value(node, "group", 1) or 1)
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
        k, n = int(attr_value(node, "K", 0) or 0), int(attr_value(node, "N", 0) or 0)
        a = ins[0]
        rows = int(np.prod(a[:-1])) if a else 1
        return 2.0 * rows * k * n if k and n else None
    if op in ("MatMul", "MatMulInteger", "QLinearMatMul", "FusedMatMul", "Gemm"):
        a = ins[0]
        if out_n is None or a is None or not a:
            return None
        k = a[-1]
        if op == "Gemm" and attr_value(node, "transA", 0):
            k = a[0]
        return 2.0 * out_n * k
    if op in _GATES:
        return _recurrent_flops(node, ins)
    if op in ("MaxPool", "AveragePool", "LpPool"):
        kernel = attr_value(node, "kernel_shape", [1])
        return None if out_n is None else float(out_n * int(np.prod(kernel)))
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
        count = t.numel(node.input[0])
        return None if count is None else float(count)
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


# Gates of ONNX's recurrent layers: W is [directions, gates * hidden, input].
_GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}


def _recurrent_flops(node: onnx.NodeProto, ins: list[list[int] | None]) -> float | None:
    """Per step and direction: the input and recurrent matmuls (2·G·H·(I+H) per batch row) plus
    ~3 element-wise operations per gate value (activations, the cell update)."""
    x, w = ins[0], ins[1] if len(ins) > 1 else None
    if not x or not w or len(x) != 3 or len(w) != 3:
        return None
    batch_first = int(attr_value(node, "layout", 0) or 0) == 1
    steps, batch = (x[1], x[0]) if batch_first else (x[0], x[1])
    directions, gate_rows, inputs = w
    hidden = gate_rows // _GATES[node.op_type]
    return float(steps * directions * batch * gate_rows * (2 * (inputs + hidden) + 3))


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


def node_bytes(node: onnx.NodeProto, t: Tensors) -> tuple[float, float, bool]:
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


def main_dtype(node: onnx.NodeProto, t: Tensors) -> str:
    for name in list(node.input)[:1] + list(node.output)[:1]:
        if name and t.elem.get(name):
            return dtype_name(t.elem[name])
    return "unknown"
