"""FP16 on a model whose If branches hold weights with the same names (like silero VAD)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from studio.core.compress import compress_model
from tests.support.compress_models import _save


def _branch(name: str, seed: int) -> onnx.GraphProto:
    rng = np.random.default_rng(seed)
    weight = numpy_helper.from_array(rng.standard_normal((16, 16)).astype(np.float32), "w")
    return helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], [f"{name}_out"], name=f"{name}_mm")],
        name,
        [],
        [helper.make_tensor_value_info(f"{name}_out", TensorProto.FLOAT, [1, 16])],
        [weight],
    )


def make_same_named_branch_weights(path: Path) -> Path:
    nodes = [
        helper.make_node("Greater", ["sr", "limit"], ["high"], name="is_16k"),
        helper.make_node(
            "If",
            ["high"],
            ["y"],
            name="If_0",
            then_branch=_branch("then", 1),
            else_branch=_branch("else", 2),
        ),
    ]
    graph = helper.make_graph(
        nodes,
        "vad_like",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16]),
            helper.make_tensor_value_info("sr", TensorProto.INT64, []),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 16])],
        [numpy_helper.from_array(np.array(8000, np.int64), "limit")],
    )
    return _save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)


def test_fp16_converts_weights_inside_if_branches_with_shared_names(tmp_path: Path) -> None:
    source = make_same_named_branch_weights(tmp_path / "vad.onnx")
    rng = np.random.default_rng(0)
    np.savez(
        tmp_path / "eval.npz",
        x=rng.standard_normal((4, 1, 16)).astype(np.float32),
        sr=np.array([16000, 8000, 16000, 8000], np.int64),
    )
    result = compress_model(
        source,
        "fp16",
        tmp_path / "h.onnx",
        evaluation=tmp_path / "eval.npz",
        options={"measure_latency": False},
    )
    model = onnx.load(result.output)
    branch_weights = [
        i
        for n in model.graph.node
        if n.op_type == "If"
        for a in n.attribute
        for i in a.g.initializer
    ]
    assert len(branch_weights) == 2
    assert all(i.data_type == TensorProto.FLOAT16 for i in branch_weights)
    assert len({i.name for i in branch_weights}) == 2
    assert result.report.min_cosine > 0.999
    assert not any("changed no layer" in w for w in result.warnings)


def test_size_of_a_model_protobuf_cannot_measure() -> None:
    from google.protobuf.message import EncodeError

    from studio.core.model.loader import proto_size

    class Huge:
        graph = type("Graph", (), {"initializer": []})()

        def ByteSize(self) -> int:  # what protobuf does for a loaded model over 2 GB
            raise EncodeError("Failed to serialize proto")

    assert proto_size(Huge()) == 2**31  # type: ignore[arg-type]
