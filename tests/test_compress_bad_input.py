"""Every bad input to compress: one clear line naming the problem, nothing written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from studio.core.compress import compress_model
from studio.core.errors import BadInput, OutputError
from tests.support.compress_models import make_block, make_cnn, make_custom_op, make_fp16, make_if

FAST = {"measure_latency": False}


def _nothing_written(folder: Path, *keep: str) -> None:
    left = [p.name for p in folder.iterdir() if p.name not in keep]
    assert not left, left


def test_empty_calibration_folder(tmp_path: Path) -> None:
    model = make_cnn(tmp_path / "cnn.onnx")
    (tmp_path / "empty").mkdir()
    with pytest.raises(BadInput, match="holds no images"):
        compress_model(model, "int8-static", tmp_path / "out.onnx", calib=tmp_path / "empty")
    _nothing_written(tmp_path, "cnn.onnx", "empty")


def test_calibration_shape_mismatch(tmp_path: Path) -> None:
    model = make_cnn(tmp_path / "cnn.onnx", size=16)
    np.savez(tmp_path / "bad.npz", image=np.zeros((4, 3, 32, 32), np.float32))
    with pytest.raises(BadInput, match="does not match input 'image'"):
        compress_model(model, "int8-static", tmp_path / "out.onnx", calib=tmp_path / "bad.npz")
    _nothing_written(tmp_path, "cnn.onnx", "bad.npz")


def test_missing_calibration_path(tmp_path: Path) -> None:
    model = make_cnn(tmp_path / "cnn.onnx")
    with pytest.raises(BadInput, match="does not exist"):
        compress_model(model, "int8-static", tmp_path / "out.onnx", calib=tmp_path / "nope.npz")


def test_unsupported_custom_node_is_named(tmp_path: Path) -> None:
    model = make_custom_op(tmp_path / "custom.onnx")
    with pytest.raises(BadInput, match="mystery_node"):
        compress_model(model, "int8-dynamic", tmp_path / "out.onnx")
    _nothing_written(tmp_path, "custom.onnx")


def test_fp16_model_is_refused_naming_the_input(tmp_path: Path) -> None:
    model = make_fp16(tmp_path / "half.onnx")
    with pytest.raises(BadInput, match="input 'x' is float16"):
        compress_model(model, "int8-static", tmp_path / "out.onnx")


def test_control_flow_is_named_for_npu_chips(tmp_path: Path) -> None:
    model = make_if(tmp_path / "if.onnx")
    with pytest.raises(BadInput, match="node 'branch' is If"):
        compress_model(model, "int8-static", tmp_path / "out.onnx", options={"int8": {"qnn": True}})


@pytest.mark.parametrize("method", ["int8-dynamic", "int8-static", "fp16"])
def test_control_flow_models_compress_on_cpu(tmp_path: Path, method: str) -> None:
    model = make_if(tmp_path / "if.onnx")
    result = compress_model(model, method, tmp_path / "out.onnx", options=FAST)
    assert result.report.min_cosine > 0.9


def test_dynamic_dims_need_shape_for_npu(tmp_path: Path) -> None:
    model = make_block(tmp_path / "block.onnx")
    with pytest.raises(BadInput, match=r"input 'x' has dynamic axis 1.*--shape x="):
        compress_model(model, "int8-static", tmp_path / "out.onnx", options={"int8": {"qnn": True}})
    result = compress_model(
        model,
        "int8-static",
        tmp_path / "out.onnx",
        shapes={"x": [1, 8, 64]},
        options={**FAST, "int8": {"qnn": True}},
    )
    assert result.report is not None


@pytest.mark.parametrize(
    ("shapes", "message"),
    [
        ({"nope": [1, 8, 64]}, "not an input"),
        ({"x": [1, 8]}, "gives 2 dimensions"),
        ({"x": [1, 8, 32]}, "fixed at 64"),
    ],
)
def test_bad_shapes(tmp_path: Path, shapes: dict, message: str) -> None:
    model = make_block(tmp_path / "block.onnx")
    with pytest.raises(BadInput, match=message):
        compress_model(model, "cleanup", tmp_path / "out.onnx", shapes=shapes)


def test_unknown_keep_float_suggests_close_names(tmp_path: Path) -> None:
    model = make_block(tmp_path / "block.onnx")
    with pytest.raises(BadInput, match="Did you mean softmax"):
        compress_model(model, "int8-dynamic", tmp_path / "out.onnx", keep_float=["softmx"])


def test_unknown_method(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="Unknown method 'int3'"):
        compress_model(make_block(tmp_path / "b.onnx"), "int3", tmp_path / "out.onnx")


def test_existing_output_is_not_overwritten(tmp_path: Path) -> None:
    model = make_block(tmp_path / "block.onnx")
    out = tmp_path / "out.onnx"
    out.write_text("mine")
    with pytest.raises(OutputError, match="already exists"):
        compress_model(model, "cleanup", out)
    assert out.read_text() == "mine"


def test_output_must_not_be_the_input(tmp_path: Path) -> None:
    model = make_block(tmp_path / "block.onnx")
    with pytest.raises(OutputError, match="overwrite the input"):
        compress_model(model, "cleanup", model, force=True)


def test_bad_option_values_name_the_field(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match=r"'int4\.block_size' has a wrong value 3"):
        compress_model(
            make_block(tmp_path / "b.onnx"),
            "int4",
            tmp_path / "o.onnx",
            options={"int4": {"block_size": 3}},
        )
    with pytest.raises(BadInput, match="power of two"):
        compress_model(
            make_block(tmp_path / "b.onnx"),
            "int4",
            tmp_path / "o.onnx",
            options={"int4": {"block_size": 48}},
        )


def test_weights_inside_if_branches_are_reported_not_faked(tmp_path: Path) -> None:
    """Quantizers do not enter If branches: the result must say nothing was quantized."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    weight = numpy_helper.from_array(np.ones((8, 8), np.float32), "w_inner")
    branch = helper.make_graph(
        [
            helper.make_node("Constant", [], ["w"], name="const_w", value=weight),
            helper.make_node("MatMul", ["x", "w"], ["out"], name="inner_mm"),
        ],
        "branch",
        [],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 8])],
    )
    other = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["out2"], name="pass")],
        "other",
        [],
        [helper.make_tensor_value_info("out2", TensorProto.FLOAT, [1, 8])],
    )
    graph = helper.make_graph(
        [
            helper.make_node(
                "If", ["flag"], ["y"], name="choose", then_branch=branch, else_branch=other
            )
        ],
        "g",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8]),
            helper.make_tensor_value_info("flag", TensorProto.BOOL, []),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(tmp_path / "branchy.onnx"))
    result = compress_model(
        tmp_path / "branchy.onnx", "int8-dynamic", tmp_path / "out.onnx", options=FAST
    )
    assert any("changed no layer" in w and "'choose'" in w for w in result.warnings)
    cleaned = onnx.load(result.output)
    then = next(a.g for a in cleaned.graph.node[0].attribute if a.name == "then_branch")
    assert "Constant" not in {n.op_type for n in then.node}, "branch Constants become weights"


def test_npz_with_whole_samples_and_scalar_inputs(tmp_path: Path) -> None:
    """Inputs whose batch axis is not first, and scalar inputs, come as (count, *shape)."""
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [
            helper.make_node("Cast", ["sr"], ["srf"], name="cast", to=TensorProto.FLOAT),
            helper.make_node("Mul", ["state", "srf"], ["y"], name="scale"),
        ],
        "g",
        [
            helper.make_tensor_value_info("state", TensorProto.FLOAT, [2, "batch", 4]),
            helper.make_tensor_value_info("sr", TensorProto.INT64, []),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, "batch", 4])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(tmp_path / "m.onnx"))
    np.savez(
        tmp_path / "s.npz",
        state=np.ones((3, 2, 1, 4), np.float32),
        sr=np.full((3,), 16000, np.int64),
    )
    result = compress_model(
        tmp_path / "m.onnx",
        "cleanup",
        tmp_path / "o.onnx",
        evaluation=tmp_path / "s.npz",
        options=FAST,
    )
    assert result.report.samples == 3 and result.report.sample_source == "evaluation data"


def test_dynamic_batch_alone_is_fixed_to_one_for_npu(tmp_path: Path) -> None:
    model = make_cnn(tmp_path / "cnn.onnx", batch="batch")
    result = compress_model(
        model,
        "int8-static",
        tmp_path / "q.onnx",
        options={**FAST, "int8": {"qnn": True}},
        drift=False,
    )
    assert any("fixed it to 1" in w for w in result.warnings)


def test_slower_on_this_pc_is_not_blamed_on_an_npu_target(tmp_path: Path, monkeypatch) -> None:
    import studio.core.analyze.drift as drift

    monkeypatch.setattr(drift, "time_pair", lambda *a, **k: (1.0, 5.0))
    model = make_cnn(tmp_path / "cnn.onnx")
    result = compress_model(
        model, "int8-static", tmp_path / "q.onnx", chip="qualcomm-snapdragon-8-gen-3"
    )
    assert result.report.slower
    assert any("not the target chip" in w for w in result.report.warnings)
    assert not any(w.startswith("The compressed model is SLOWER") for w in result.report.warnings)


@pytest.mark.parametrize("method", ["int8-dynamic", "int8-static", "cleanup"])
@pytest.mark.parametrize("drift", [False, True])
def test_a_damaged_model_that_still_loads_is_called_damaged(
    tmp_path: Path, method: str, drift: bool
) -> None:
    # The checker runs on the source only when something fails, so this must still be found.
    import onnx

    model = onnx.load(str(make_cnn(tmp_path / "cnn.onnx")))
    relu = next(n for n in model.graph.node if n.name == "relu2")
    relu.input[0] = "ghost"  # a tensor nothing produces
    onnx.save(model, str(tmp_path / "cnn.onnx"))
    with pytest.raises(BadInput, match="cnn.onnx is damaged"):
        compress_model(
            tmp_path / "cnn.onnx", method, tmp_path / "out.onnx", options=FAST, drift=drift
        )
    _nothing_written(tmp_path, "cnn.onnx")
