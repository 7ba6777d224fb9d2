"""What precision a model already computes in: float, or quantized and by which scheme.

A model that arrives quantized (QDQ pairs, QLinear* ops, ConvInteger/MatMulInteger, MatMulNBits)
must not be quantized again: the quantizer would only add nodes around it. ``info``, ``check`` and
``compress`` read it from here.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel

if TYPE_CHECKING:
    import onnx

# Ops that exist only in quantized graphs; QuantizeLinear alone also marks a QDQ graph.
QUANTIZED_OPS = {
    "QuantizeLinear",
    "DynamicQuantizeLinear",
    "MatMulInteger",
    "ConvInteger",
    "QLinearConv",
    "QLinearMatMul",
    "MatMulNBits",
    "DynamicQuantizeLSTM",
}
# Which scheme each op belongs to, in the words the user sees.
_SCHEMES: dict[str, tuple[str, str]] = {
    "QuantizeLinear": ("qdq", "INT8 (QDQ)"),
    "DequantizeLinear": ("qdq", "INT8 (QDQ)"),
    "QLinearConv": ("qoperator", "INT8 (QLinear ops)"),
    "QLinearMatMul": ("qoperator", "INT8 (QLinear ops)"),
    "ConvInteger": ("integer", "INT8 (dynamic, integer ops)"),
    "MatMulInteger": ("integer", "INT8 (dynamic, integer ops)"),
    "DynamicQuantizeLinear": ("integer", "INT8 (dynamic, integer ops)"),
    "DynamicQuantizeLSTM": ("integer", "INT8 (dynamic, integer ops)"),
    "MatMulNBits": ("nbits", "INT4 weights (MatMulNBits)"),
}


class Precision(BaseModel):
    kind: Literal["float32", "float16", "qdq", "qoperator", "integer", "nbits"]
    label: str
    """What the user reads: 'float32', 'INT8 (QDQ)', 'INT4 weights (MatMulNBits)'..."""
    quantized_ops: dict[str, int] = {}
    """The quantized ops the model holds and how many of each (If/Loop bodies included)."""

    @property
    def quantized(self) -> bool:
        return self.kind not in ("float32", "float16")

    def summary(self) -> str:
        """'INT8 (dynamic, integer ops): 119 ConvInteger, 1 MatMulInteger'."""
        if not self.quantized_ops:
            return self.label
        ops = ", ".join(f"{n} {op}" for op, n in self.quantized_ops.items())
        return f"{self.label}: {ops}"


def model_precision(model: onnx.ModelProto) -> Precision:
    """The scheme most of the model's quantized ops belong to, else float16 or float32."""
    import onnx

    from studio.core.model.loader import (
        all_nodes,  # model.py reads precisions for its summary
    )

    ops = Counter(n.op_type for n in all_nodes(model.graph) if n.op_type in _SCHEMES)
    if ops:
        votes = Counter[str]()
        for op, count in ops.items():
            votes[_SCHEMES[op][0]] += count
        kind = votes.most_common(1)[0][0]
        label = next(label for k, label in _SCHEMES.values() if k == kind)
        return Precision(kind=kind, label=label, quantized_ops=dict(ops.most_common()))
    half = onnx.TensorProto.FLOAT16
    if any(t.data_type == half for t in model.graph.initializer):
        return Precision(kind="float16", label="float16")
    return Precision(kind="float32", label="float32")
