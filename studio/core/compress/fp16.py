"""FP16: weights and compute in half precision, optionally keeping float32 inputs and outputs."""

from __future__ import annotations

from pathlib import Path

import onnx

from studio.core.compress.graph import save_model, topological_sort
from studio.core.compress.options import Fp16Settings

# Ops whose fp16 kernels are missing in onnxruntime's CPU provider or that lose too much range.
ALWAYS_FLOAT = ["Range", "RandomNormalLike", "RandomUniformLike", "NonMaxSuppression", "TopK"]


def convert_fp16(
    model: onnx.ModelProto, dest: Path, settings: Fp16Settings, keep_nodes: list[str],
    external: bool,
) -> None:
    from onnxruntime.transformers.float16 import DEFAULT_OP_BLOCK_LIST, convert_float_to_float16

    converted = convert_float_to_float16(
        model, keep_io_types=settings.keep_io_types,
        op_block_list=list(DEFAULT_OP_BLOCK_LIST) + ALWAYS_FLOAT,
        node_block_list=keep_nodes or None,
        disable_shape_infer=model.ByteSize() > 1_800_000_000,
    )
    topological_sort(converted)
    save_model(converted, dest, external)
