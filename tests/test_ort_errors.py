"""onnxruntime's native failures reach the user as one sentence naming the node."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from studio.cli import main
from studio.core.analyze.profile import profile_model
from studio.core.errors import BadInput


def _conv_needing_three_samples(path: Path) -> Path:
    """A 1-D conv with a kernel of 3 and a fixed input of 1 sample: onnxruntime refuses to run it
    ("Invalid input shape: {1}"), as a real audio model did when fed a too-short frame."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 1])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", "c", "t"])
    w = helper.make_tensor("w", TensorProto.FLOAT, [4, 1, 3], np.ones(12, np.float32).tolist())
    node = helper.make_node("Conv", ["x", "w"], ["y"], name="Conv_3")
    graph = helper.make_graph([node], "g", [x], [y], [w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


def test_a_failing_node_is_named_in_one_sentence(tmp_path: Path) -> None:
    model = _conv_needing_three_samples(tmp_path / "short.onnx")
    with pytest.raises(BadInput) as raised:
        profile_model(model, runs=1, warmup=0, threads=1)
    message = str(raised.value)
    assert "onnxruntime could not run node 'Conv_3' (Conv) of short.onnx" in message
    assert "Invalid input shape" in message and "[ONNXRuntimeError]" not in message


def test_the_cli_prints_it_as_one_line_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    model = _conv_needing_three_samples(tmp_path / "short.onnx")
    assert (
        main(["compress", str(model), "--method", "fp16", "--out", str(tmp_path / "o.onnx")]) == 2
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "node 'Conv_3'" in err[0]
    assert not (tmp_path / "o.onnx").exists()
