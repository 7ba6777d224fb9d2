"""FP16: weights and compute in half precision, optionally keeping float32 inputs and outputs."""

from __future__ import annotations

from pathlib import Path

import onnx

from studio.core.compress.graph import save_model, topological_sort
from studio.core.compress.node_progress import NodeCounter, counting_calls
from studio.core.compress.options import Fp16Settings
from studio.core.model.loader import all_nodes, proto_size
from studio.core.progress import NULL_REPORTER, Reporter

# Ops whose fp16 kernels are missing in onnxruntime's CPU provider or that lose too much range.
ALWAYS_FLOAT = ["Range", "RandomNormalLike", "RandomUniformLike", "NonMaxSuppression", "TopK"]


def convert_fp16(
    model: onnx.ModelProto,
    dest: Path,
    settings: Fp16Settings,
    keep_nodes: list[str],
    external: bool,
    report: Reporter = NULL_REPORTER,
) -> None:
    from onnxruntime.transformers import float16
    from onnxruntime.transformers.float16 import DEFAULT_OP_BLOCK_LIST, convert_float_to_float16

    # The converter turns each float32 weight into float16 by one call of this module function.
    _unique_branch_weights(model)
    weights = _float_weights(model)
    counter = NodeCounter(
        report.sub(0.0, 0.9), len(weights), "converting weights to FP16", unit="weights"
    )
    # It is also called on every node attribute; only the weights are counted.
    with counting_calls(
        float16,
        "convert_tensor_float_to_float16",
        counter,
        when=lambda tensor, *_a, **_k: tensor.name in weights,
    ):
        converted = convert_float_to_float16(
            model,
            keep_io_types=settings.keep_io_types,
            op_block_list=list(DEFAULT_OP_BLOCK_LIST) + ALWAYS_FLOAT,
            node_block_list=keep_nodes or None,
            disable_shape_infer=proto_size(model) > 1_800_000_000,
        )
    topological_sort(converted)
    report.progress(0.95, "Saving the FP16 model")
    save_model(converted, dest, external)


def _float_weights(model: onnx.ModelProto) -> set[str]:
    graphs = [model.graph] + [
        a.g
        for n in all_nodes(model.graph)
        for a in n.attribute
        if a.type == onnx.AttributeProto.GRAPH
    ]
    return {i.name for g in graphs for i in g.initializer if i.data_type == onnx.TensorProto.FLOAT}


def _subgraphs(node: onnx.NodeProto) -> list[onnx.GraphProto]:
    return [
        g
        for a in node.attribute
        for g in ([a.g] if a.type == onnx.AttributeProto.GRAPH else []) + list(a.graphs)
    ]


def _unique_branch_weights(model: onnx.ModelProto) -> int:
    """Give weights inside If/Loop branches names no other graph uses.

    Both branches of an If often hold weights with the same names (silero VAD's 8 kHz and 16 kHz
    paths); each is local to its branch, which ONNX allows, but the FP16 converter tracks weights
    by name across the whole model and stops with an AssertionError. Renaming inside the branch
    that declares the weight changes nothing else.
    """
    seen = {i.name for i in model.graph.initializer}
    renamed = 0

    def visit(graph: onnx.GraphProto) -> None:
        nonlocal renamed
        for node in graph.node:
            for sub in _subgraphs(node):
                for init in sub.initializer:
                    if init.name in seen:
                        new = f"{init.name}__{sub.name or 'branch'}_{renamed}"
                        _rename_reads(sub, init.name, new)
                        init.name = new
                        renamed += 1
                    seen.add(init.name)
                visit(sub)

    visit(model.graph)
    return renamed


def _rename_reads(graph: onnx.GraphProto, old: str, new: str) -> None:
    """Rename every read of ``old`` in ``graph`` and in nested graphs that do not shadow it."""
    for node in graph.node:
        if old in node.input:
            names = [new if name == old else name for name in node.input]
            del node.input[:]
            node.input.extend(names)
        for sub in _subgraphs(node):
            local = {i.name for i in sub.initializer} | {i.name for i in sub.input}
            if old not in local:
                _rename_reads(sub, old, new)
    for output in graph.output:
        if output.name == old:  # a branch returning the weight itself
            output.name = new
