"""Magnitude sparsity: report how many weights are (near) zero, and optionally zero the smallest.

Stated honestly: onnxruntime's dense kernels do the same work for a zero as for any other
number, so pruning here makes the file compress better (zip) but not the model faster. Real speed
comes from structured pruning that removes whole channels before export.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import numpy_helper
from pydantic import BaseModel

NO_SPEEDUP_NOTE = (
    "Zeroed weights make the model no faster in onnxruntime (its kernels are dense); they only "
    "make the file compress better. Real speed-ups need structured pruning that removes channels "
    "before export."
)
NEAR_ZERO = 1e-6
PRUNABLE_OPS = {"Conv", "ConvTranspose", "MatMul", "Gemm"}


class LayerSparsity(BaseModel):
    name: str
    op_type: str
    weights: int
    zeros_before: float
    zeros_after: float


class SparsityReport(BaseModel):
    target: float
    weights: int
    zeros_before: float
    zeros_after: float
    layers: list[LayerSparsity]
    note: str = NO_SPEEDUP_NOTE


def _prunable(model: onnx.ModelProto) -> dict[str, tuple[str, str]]:
    """Weight initializer name → (node name, op type) for Conv/MatMul/Gemm weights."""
    inits = {i.name for i in model.graph.initializer}
    found: dict[str, tuple[str, str]] = {}
    for node in model.graph.node:
        if node.op_type in PRUNABLE_OPS and len(node.input) > 1 and node.input[1] in inits:
            found.setdefault(node.input[1], (node.name, node.op_type))
    return found


def prune_model(model: onnx.ModelProto, sparsity: float) -> tuple[onnx.ModelProto, SparsityReport]:
    """Zero the smallest ``sparsity`` fraction of each prunable weight (per layer, by magnitude)."""
    targets = _prunable(model)
    layers = []
    total = zeros_before = zeros_after = 0
    for index, init in enumerate(model.graph.initializer):
        if init.name not in targets or init.data_type != onnx.TensorProto.FLOAT:
            continue
        array = numpy_helper.to_array(init)
        before = int(np.count_nonzero(np.abs(array) <= NEAR_ZERO))
        if sparsity > 0:
            cutoff = np.quantile(np.abs(array), sparsity)
            array = np.where(np.abs(array) <= cutoff, 0.0, array).astype(np.float32)
            model.graph.initializer[index].CopyFrom(numpy_helper.from_array(array, init.name))
        after = int(np.count_nonzero(np.abs(array) <= NEAR_ZERO))
        node, op_type = targets[init.name]
        layers.append(
            LayerSparsity(
                name=node,
                op_type=op_type,
                weights=array.size,
                zeros_before=before / array.size,
                zeros_after=after / array.size,
            )
        )
        total += array.size
        zeros_before += before
        zeros_after += after
    report = SparsityReport(
        target=sparsity,
        weights=total,
        zeros_before=zeros_before / max(total, 1),
        zeros_after=zeros_after / max(total, 1),
        layers=sorted(layers, key=lambda layer: -layer.weights),
    )
    return model, report
