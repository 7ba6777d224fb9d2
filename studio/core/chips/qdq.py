"""Node facts that decide which onnxruntime kernel runs: Q/DQ folding, integer vs float compute,
weights dequantized each run, 1×1 convolutions; and casts of constants folded before inference.
"""

from __future__ import annotations

from collections import Counter

import onnx
from onnx import helper

from studio.core.chips.flops import Tensors, attr_value, dtype_name


def fused_qdq(node: onnx.NodeProto, graph_io: set[str], fanout: Counter[str]) -> bool:
    """Inside a QDQ graph onnxruntime fuses Q/DQ pairs into integer kernels; the Q of a model
    input, the DQ of a model output and a DQ shared by several consumers (measured here: the
    consumers then stay float) still run as their own ops."""
    if node.op_type == "QuantizeLinear":
        return node.input[0] not in graph_io
    if node.op_type == "DequantizeLinear":
        return node.output[0] not in graph_io and fanout[node.output[0]] <= 1
    return False


def pointwise(node: onnx.NodeProto, t: Tensors) -> bool:
    if node.op_type not in ("Conv", "QLinearConv", "ConvInteger"):
        return False
    kernel = attr_value(node, "kernel_shape")
    if kernel is None:
        w = t.shape.get(node.input[3] if node.op_type == "QLinearConv" else node.input[1])
        kernel = w[2:] if w else None
    return bool(kernel) and all(int(k) == 1 for k in kernel)


def dq_weights(node: onnx.NodeProto, producers: dict[str, onnx.NodeProto]) -> bool:
    """A Conv/MatMul/Gemm whose weight input is produced by DequantizeLinear at run time."""
    if node.op_type not in ("Conv", "MatMul", "Gemm") or len(node.input) < 2:
        return False
    source = producers.get(node.input[1])
    return source is not None and source.op_type == "DequantizeLinear"


def quantized_dtype(
    node: onnx.NodeProto, producers: dict[str, onnx.NodeProto], t: Tensors, fanout: Counter[str]
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
                return dtype_name(elem)
    return None


def fold_constant_casts(model: onnx.ModelProto) -> None:
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
