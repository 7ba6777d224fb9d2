"""FP16: weights and compute in half precision, optionally keeping float32 inputs and outputs."""

from __future__ import annotations

from pathlib import Path

import onnx

from studio.core.compress.graph import all_nodes, save_model, topological_sort
from studio.core.compress.node_progress import NodeCounter, counting_calls
from studio.core.compress.options import Fp16Settings
from studio.core.progress import NULL_REPORTER, Reporter

# Ops whose fp16 kernels are missing in onnxruntime's CPU provider or that lose too much range.
ALWAYS_FLOAT = ["Range", "RandomNormalLike", "RandomUniformLike", "NonMaxSuppression", "TopK"]


def convert_fp16(
    model: onnx.ModelProto, dest: Path, settings: Fp16Settings, keep_nodes: list[str],
    external: bool, report: Reporter = NULL_REPORTER,
) -> None:
    from onnxruntime.transformers import float16
    from onnxruntime.transformers.float16 import DEFAULT_OP_BLOCK_LIST, convert_float_to_float16

    # The converter turns each float32 weight into float16 by one call of this module function.
    weights = _float_weights(model)
    counter = NodeCounter(report.sub(0.0, 0.9), len(weights), "converting weights to FP16",
                          unit="weights")
    # It is also called on every node attribute; only the weights are counted.
    with counting_calls(float16, "convert_tensor_float_to_float16", counter,
                        when=lambda tensor, *_a, **_k: tensor.name in weights):
        converted = convert_float_to_float16(
            model, keep_io_types=settings.keep_io_types,
            op_block_list=list(DEFAULT_OP_BLOCK_LIST) + ALWAYS_FLOAT,
            node_block_list=keep_nodes or None,
            disable_shape_infer=model.ByteSize() > 1_800_000_000,
        )
    topological_sort(converted)
    report.progress(0.95, "Saving the FP16 model")
    save_model(converted, dest, external)


def _float_weights(model: onnx.ModelProto) -> set[str]:
    graphs = [model.graph] + [a.g for n in all_nodes(model.graph) for a in n.attribute
                              if a.type == onnx.AttributeProto.GRAPH]
    return {i.name for g in graphs for i in g.initializer if i.data_type == onnx.TensorProto.FLOAT}
