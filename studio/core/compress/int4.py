"""INT4 weight-only quantization of MatMul layers (MatMulNBits) for language models."""

from __future__ import annotations

from pathlib import Path

import onnx

from studio.core.compress.graph import save_model
from studio.core.compress.node_progress import NodeCounter, counting_calls
from studio.core.compress.options import Int4Settings
from studio.core.errors import BadInput
from studio.core.model.loader import all_nodes
from studio.core.progress import NULL_REPORTER, Reporter


def quantize_int4(
    model: onnx.ModelProto,
    dest: Path,
    settings: Int4Settings,
    exclude: list[str],
    external: bool,
    report: Reporter = NULL_REPORTER,
) -> None:
    # matmul_nbits_quantizer imports onnx_ir, which onnxruntime does not declare; it is pinned
    # in pyproject.toml.
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    if settings.block_size & (settings.block_size - 1):
        raise BadInput(
            f"int4.block_size {settings.block_size} is not a power of two",
            "Use 16, 32, 64, 128 or 256",
        )
    candidates = _quantizable_matmuls(model, settings.block_size)
    if not candidates:
        raise BadInput(
            "INT4 changes only MatMul layers with constant weights of at least "
            f"{settings.block_size} rows, and this model has none",
            "Use int8-static or fp16 for this model",
        )
    quantizer = MatMulNBitsQuantizer(
        model,
        bits=4,
        block_size=settings.block_size,
        is_symmetric=settings.symmetric,
        accuracy_level=settings.accuracy_level or None,
        nodes_to_exclude=exclude,
    )
    op_types = set(quantizer.algo_config.op_types_to_quantize)
    skip = set(exclude)
    total = sum(1 for n in all_nodes(model.graph) if n.op_type in op_types and n.name not in skip)
    # One call per MatMul it quantizes (also inside If/Loop branches).
    counter = NodeCounter(report.sub(0.0, 0.9), total, "quantizing MatMul weights to INT4")
    with counting_calls(quantizer.node_quantizer, "quantize", counter):
        quantizer.process()
    report.progress(0.95, "Saving the INT4 model")
    save_model(quantizer.model.model, dest, external)


def _quantizable_matmuls(model: onnx.ModelProto, block_size: int) -> list[str]:
    weights = {i.name: list(i.dims) for i in model.graph.initializer}
    return [
        n.name
        for n in model.graph.node
        if n.op_type == "MatMul"
        and len(n.input) == 2
        and len(weights.get(n.input[1], [])) == 2
        and weights[n.input[1]][0] >= block_size
    ]
